"""C sources shared by the call-boundary tests (the tutorial's library, and probes)."""

from __future__ import annotations

import struct

TUTORIAL_C = r"""
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

int64_t fibonacci(int n) { int64_t a = 0, b = 1; for (int i = 0; i < n; i++) { int64_t t = a + b; a = b; b = t; } return a; }

int echo_int(int x) { return x; }
long echo_long(long x) { return x; }
double echo_double(double x) { return x; }
float echo_float(float x) { return x; }
char echo_char(char x) { return x; }
const char *echo_string(const char *s) { return s; }
void *echo_pointer(void *p) { return p; }
int32_t echo_int32(int32_t x) { return x; }
uint64_t echo_uint64(uint64_t x) { return x; }
unsigned char echo_uchar(unsigned char x) { return x; }
short echo_short(short x) { return x; }
_Bool echo_bool(_Bool x) { return x; }

void print_string(const char *s) { printf("%s\n", s); fflush(stdout); }
size_t string_length(const char *s) { return strlen(s); }
void modify_string(char *s) { for (; *s; s++) if (*s >= 'a' && *s <= 'z') *s -= 32; }

double sum_array(const double *arr, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += arr[i]; return s; }
void scale_array(double *arr, size_t n, double k) { for (size_t i = 0; i < n; i++) arr[i] *= k; }
uintptr_t address_of(const void *p) { return (uintptr_t)p; }

typedef struct { int id; char name[50]; double score; int is_active; } Student;
void print_student(const Student *s) { printf("%d %s %.1f %d\n", s->id, s->name, s->score, s->is_active); fflush(stdout); }
double get_average_score(const Student *s, int n) { double t = 0; for (int i = 0; i < n; i++) t += s[i].score; return n ? t / n : 0; }
Student make_student(int id, double score) { Student s = {0}; s.id = id; s.score = score; s.is_active = 1; strcpy(s.name, "made"); return s; }

typedef int (*CompareFunc)(int, int);
int find_max(int *arr, int n, CompareFunc cmp) { int best = arr[0]; for (int i = 1; i < n; i++) if (cmp(arr[i], best) > 0) best = arr[i]; return best; }

int process(int code) { return code; }   /* -1 out of memory, -2 bad argument */
"""

TUTORIAL_H = r"""
int64_t fibonacci(int n);
int echo_int(int x);
long echo_long(long x);
double echo_double(double x);
float echo_float(float x);
char echo_char(char x);
const char *echo_string(const char *s);
void *echo_pointer(void *p);
int32_t echo_int32(int32_t x);
uint64_t echo_uint64(uint64_t x);
unsigned char echo_uchar(unsigned char x);
short echo_short(short x);
_Bool echo_bool(_Bool x);
void print_string(const char *s);
size_t string_length(const char *s);
void modify_string(char *s);
double sum_array(const double *arr, size_t n);
void scale_array(double *arr, size_t n, double k);
uintptr_t address_of(const void *p);
typedef struct { int id; char name[50]; double score; int is_active; } Student;
void print_student(const Student *s);
double get_average_score(const Student *s, int n);
Student make_student(int id, double score);
typedef int (*CompareFunc)(int, int);
int find_max(int *arr, int n, CompareFunc cmp);
int process(int code);
"""


def load_tutorial(cbuild):
    """Build the tutorial library and load it with its header text."""
    import ffikit

    path = cbuild(TUTORIAL_C, name="tutorial")
    return ffikit.load(path, ffikit.cdef(TUTORIAL_H))


def elf32_stub(path: str) -> None:
    """A minimal 32-bit x86 ELF shared-object header (what a 32-bit build would give)."""
    header = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIIIIIHHHHHH", 3, 3, 1, 0, 0, 0, 0, 52, 0, 0, 40, 0, 0)
    with open(path, "wb") as f:
        f.write(header)
