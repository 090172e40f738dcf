"""C used by the memory tests: a counting allocator pair and functions that write."""

COUNTING_ALLOCATOR = r"""
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
static int frees = 0;
void *allocate_buffer(size_t n) { void *p = malloc(n); if (p) memset(p, 7, n); return p; }
void free_buffer(void *p) { frees++; free(p); }
int free_count(void) { return frees; }
void poke(uint8_t *p, size_t i, uint8_t v) { p[i] = v; }
void fill(uint8_t *p, size_t n, uint8_t v) { for (size_t i = 0; i < n; i++) p[i] = v; }
"""

DECLARATIONS = """
void *allocate_buffer(size_t n);
void free_buffer(void *p);
int free_count(void);
void poke(uint8_t *p, size_t i, uint8_t v);
void fill(uint8_t *p, size_t n, uint8_t v);
"""


# Real C the memory-safety tests call with protected/guarded memory.
SAFETY_SOURCE = r"""
#include <stddef.h>
#include <stdint.h>
double half(double x) { return x / 2; }
uint8_t first(const void *p) { return ((const uint8_t *)p)[0]; }
void fill(uint8_t *p, size_t n, uint8_t v) { for (size_t i = 0; i < n; i++) p[i] = v; }
void set_int(int *p, int v) { *p = v; }
"""
