/* Crash reports: a fatal signal names the C function this thread was running.
 *
 * On the ctypes backend a C crash's faulthandler traceback ends in the wrapper named after
 * the C function; on the compiled backend no Python frame runs during the call, so the
 * wrapper records the running function in a thread-local (ffk_current, errno.c) and
 * report_crashes() installs a handler for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT that
 * writes "ffikit: fatal signal <n> in C function <declaration> from <library>" to stderr
 * (write(2) only: async-signal-safe) and then hands the signal to the handler that was
 * there before (faulthandler's, which dumps the Python traceback) or to the default one.
 * ffikit.enable_faulthandler() asks for it; every module loaded later installs it too.
 */
#include <signal.h>
#include <unistd.h>

#define FFK_NFATAL 5
static const int ffk_fatal[FFK_NFATAL] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
static struct sigaction ffk_before[FFK_NFATAL];
static int ffk_reporting = 0;

static void
ffk_write(const char *text)
{
    size_t n = strlen(text);
    while (n > 0) {
        ssize_t written = write(2, text, n);
        if (written <= 0)
            return;
        text += written;
        n -= (size_t)written;
    }
}

static void
ffk_on_fatal(int sig, siginfo_t *info, void *context)
{
    ffk_func *running = ffk_current;
    char number[16];
    int k, n = sig, len = 0;
    if (running != NULL) {
        do {
            number[len++] = (char)('0' + n % 10);
            n /= 10;
        } while (n > 0 && len < 15);
        ffk_write("ffikit: fatal signal ");
        while (len > 0) {
            char digit[2] = {number[--len], 0};
            ffk_write(digit);
        }
        ffk_write(" in C function ");
        ffk_write(running->label[0] ? running->label : "(unnamed)");
        ffk_write(" (compiled backend)\n");
    }
    for (k = 0; k < FFK_NFATAL; k++) {
        struct sigaction *old = &ffk_before[k];
        if (ffk_fatal[k] != sig)
            continue;
        if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
            old->sa_sigaction(sig, info, context);
            return;
        }
        if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
            old->sa_handler(sig);
            return;
        }
        sigaction(sig, old, NULL);  /* the default action, once this handler returns */
        raise(sig);
        return;
    }
}

static PyObject *
ffk_report_crashes(PyObject *module, PyObject *unused)
{
    int k;
    (void)module;
    (void)unused;
    if (ffk_reporting)
        Py_RETURN_FALSE;
    for (k = 0; k < FFK_NFATAL; k++) {
        struct sigaction mine;
        memset(&mine, 0, sizeof mine);
        mine.sa_sigaction = ffk_on_fatal;
        mine.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
        sigemptyset(&mine.sa_mask);
        if (sigaction(ffk_fatal[k], &mine, &ffk_before[k]) != 0)
            return PyErr_SetFromErrno(PyExc_OSError);
    }
    ffk_reporting = 1;
    Py_RETURN_TRUE;
}

static PyObject *
ffk_get_label(PyObject *o, void *closure)
{
    (void)closure;
    return PyUnicode_DecodeUTF8(((ffk_func *)o)->label, (Py_ssize_t)strlen(((ffk_func *)o)->label),
                                "replace");
}

static int
ffk_set_label(PyObject *o, PyObject *value, void *closure)
{
    ffk_func *self = (ffk_func *)o;
    const char *text;
    Py_ssize_t n;
    (void)closure;
    if (value == NULL || !PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "crash_label must be a str");
        return -1;
    }
    text = PyUnicode_AsUTF8AndSize(value, &n);
    if (text == NULL)
        return -1;
    if (n > (Py_ssize_t)sizeof self->label - 1)
        n = (Py_ssize_t)sizeof self->label - 1;
    memcpy(self->label, text, (size_t)n);  /* a fixed buffer: the signal handler reads it */
    self->label[n] = 0;
    return 0;
}
