"""A C library touching every shape the compiled backend handles, for its tests."""

from __future__ import annotations

C = r"""
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <wchar.h>
typedef struct { int id; char name[50]; double score; int is_active; } Student;
typedef struct { int x, y; } Point;
typedef int (*binop)(int, int);
int add(int a, int b) { return a + b; }
int8_t i8(int8_t v) { return v; }
uint8_t u8(uint8_t v) { return v; }
int16_t i16(int16_t v) { return v; }
uint32_t u32(uint32_t v) { return v; }
int64_t i64(int64_t v) { return v; }
uint64_t u64(uint64_t v) { return v; }
_Bool flip(_Bool b) { return !b; }
char next_char(char c) { return c + 1; }
float half(float x) { return x / 2; }
double twice(double x) { return 2 * x; }
double sum(const double *p, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += p[i]; return s; }
void scale(double *p, size_t n, double k) { for (size_t i = 0; i < n; i++) p[i] *= k; }
int32_t first_int(const int32_t *p) { return p ? p[0] : -1; }
uintptr_t where(const void *p) { return (uintptr_t)p; }
uintptr_t where_mut(void *p) { return (uintptr_t)p; }
size_t length(const char *s) { return s ? strlen(s) : 0; }
size_t wlength(const wchar_t *s) { return s ? wcslen(s) : 0; }
double nn_first(const double *p, const double *q) { return p[0] + (q ? q[0] : 0); }
int nn_apply(binop f, int a) { return f(a, a); }
void upper(char *s) { for (; *s; s++) if (*s >= 'a' && *s <= 'z') *s -= 32; }
double avg(const Student *s, int n) { double t = 0; for (int i = 0; i < n; i++) t += s[i].score; return n ? t / n : 0; }
void set_score(Student *s, double v) { s->score = v; }
int apply(binop f, int a, int b) { return f ? f(a, b) : -1; }
double *same(double *p) { return p; }
const char *greet(void) { return "hello"; }
void *nothing(void) { return NULL; }
void set_int(int *out, int v) { *out = v; }
int px(Point p) { return p.x; }
Point mkpoint(int x, int y) { Point p = {x, y}; return p; }
long double ld(long double x) { return x; }
typedef struct { unsigned a : 3, b : 5; } Bits;
int bits(Bits b) { return b.a + b.b; }
typedef struct __attribute__((packed)) { char c; int x; } Packed;
int packed_x(Packed p) { return p.x; }
typedef struct { float f; double d[2]; Point inner; unsigned char tag; } Mixed;
double mixed_sum(Mixed m) { return m.f + m.d[0] + m.d[1] + m.inner.x + m.inner.y + m.tag; }
Mixed mixed_make(double v) { Mixed m = {1.5f, {v, 2 * v}, {3, 4}, 7}; return m; }
int count(int n, ...) { return n; }
"""

H = """
typedef struct { int id; char name[50]; double score; int is_active; } Student;
typedef struct { int x, y; } Point;
typedef int (*binop)(int, int);
int add(int a, int b);
int8_t i8(int8_t v);
uint8_t u8(uint8_t v);
int16_t i16(int16_t v);
uint32_t u32(uint32_t v);
int64_t i64(int64_t v);
uint64_t u64(uint64_t v);
_Bool flip(_Bool b);
char next_char(char c);
float half(float x);
double twice(double x);
double sum(const double *p, size_t n);
void scale(double *p, size_t n, double k);
int32_t first_int(const int32_t *p);
uintptr_t where(const void *p);
uintptr_t where_mut(void *p);
size_t length(const char *s);
size_t wlength(const wchar_t *s);
double nn_first(const double *p, const double *q) __attribute__((nonnull(1)));
int nn_apply(binop f, int a) __attribute__((nonnull));
void upper(char *s);
double avg(const Student *s, int n);
void set_score(Student *s, double v);
int apply(binop f, int a, int b);
double *same(double *p);
const char *greet(void);
void *nothing(void);
void set_int(int *out, int v);
int px(Point p);
Point mkpoint(int x, int y);
long double ld(long double x);
typedef struct { unsigned a : 3, b : 5; } Bits;
int bits(Bits b);
typedef struct __attribute__((packed)) { char c; int x; } Packed;
int packed_x(Packed p);
typedef struct { float f; double d[2]; Point inner; unsigned char tag; } Mixed;
double mixed_sum(Mixed m);
Mixed mixed_make(double v);
int count(int n, ...);
"""

# Functions the compiled backend leaves wholly to ctypes, and why.
PYTHON_ONLY = {"count": "variadic", "bits": "struct parameters"}
# Functions neither backend binds: a packed struct by value (ctypes would pass it wrongly).
REFUSED = {"packed_x"}

# Functions whose declarations carry facts (sizes, nonnull, owned results) and results of
# every kind: both backends must agree on each call, and the compiled one keeps them in C.
FACTS_C = r"""
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
typedef struct { int x, y; } Pair;
typedef union { int i; float f; } Num;
double s_access(const double *p, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += p[i]; return s; }
void w_access(double *p, int n) { for (int i = 0; i < n; i++) p[i] = i; }
double s_fixed(const double p[4]) { return p[0] + p[3]; }
double s_vla(int n, const double p[n]) { double s = 0; for (int i = 0; i < n; i++) s += p[i]; return s; }
double s_user(const double *p, size_t n) { double s = 0; for (size_t i = 0; i < n; i++) s += p[i]; return s; }
double s_count(const double *p) { return p[0] + p[2]; }
size_t s_prod(const unsigned char *p, size_t size, long n) { size_t s = 0; for (size_t i = 0; i < size * (size_t)n; i++) s += p[i]; return s; }
size_t nn_len(const char *s) { return strlen(s); }
char *dup(const char *s) { return strdup(s); }
int *same_int(int *p) { return p; }
void *same_void(void *p) { return p; }
char *same_char(char *p) { return p; }
Pair make_pair(int x) { Pair p = {x, x + 1}; return p; }
Num make_num(int i) { Num n; n.i = i; return n; }
int ret_int(int v) { return v; }
unsigned ret_uint(unsigned v) { return v; }
_Bool ret_bool(int v) { return v != 0; }
double ret_double(double v) { return v; }
const char *ret_str(int v) { return v ? "yes" : NULL; }
int set_errno(int e, int r) { errno = e; return r; }
"""

FACTS_H = """
typedef struct { int x, y; } Pair;
typedef union { int i; float f; } Num;
double s_access(const double *p, size_t n) __attribute__((access(read_only, 1, 2)));
void w_access(double *p, int n) __attribute__((access(write_only, 1, 2)));
double s_fixed(const double p[4]);
double s_vla(int n, const double p[n]);
double s_user(const double *p, size_t n);
double s_count(const double *p);
size_t s_prod(const unsigned char *p, size_t size, long n);
size_t nn_len(const char *s) __attribute__((nonnull));
void free(void *);
char *dup(const char *s) __attribute__((malloc, malloc(free, 1)));
int *same_int(int *p);
void *same_void(void *p);
char *same_char(char *p);
Pair make_pair(int x);
Num make_num(int i);
int ret_int(int v);
unsigned ret_uint(unsigned v);
_Bool ret_bool(int v);
double ret_double(double v);
const char *ret_str(int v);
int set_errno(int e, int r);
"""

FACTS_SIZES = {"s_user": {"p": "n"}, "s_count": {"p": 3}, "s_prod": {"p": "size * n"}}
