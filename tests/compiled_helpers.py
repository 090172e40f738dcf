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
PYTHON_ONLY = {"count": "variadic", "bits": "struct parameters",
               "same": "may point into an argument"}  # kept alive with the result
# Functions neither backend binds: a packed struct by value (ctypes would pass it wrongly).
REFUSED = {"packed_x"}
