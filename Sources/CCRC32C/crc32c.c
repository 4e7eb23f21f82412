// CRC32C with the CPU's instruction where it exists and a slice-by-8 table otherwise.
// This is the only C in Logbook besides the LMDB header; Swift cannot name the instruction.
#include "ccrc32c.h"
#include <string.h>

static uint32_t table[8][256];
static int table_ready = 0;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t ccrc32c_extend_portable(uint32_t crc, const void *bytes, size_t n) {
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) build_table();  // idempotent; races write equal values
    const unsigned char *p = bytes;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4); memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
            table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8; n -= 8;
    }
    while (n--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#if defined(__x86_64__)
#include <nmmintrin.h>
__attribute__((target("sse4.2")))
static uint32_t extend_hw(uint32_t crc, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    uint64_t c = (uint32_t)~crc;
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); c = _mm_crc32_u64(c, w); p += 8; n -= 8; }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}
static int detect(void) { __builtin_cpu_init(); return __builtin_cpu_supports("sse4.2"); }
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>
static uint32_t extend_hw(uint32_t crc, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    uint32_t c = ~crc;
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); c = __crc32cd(c, w); p += 8; n -= 8; }
    while (n--) c = __crc32cb(c, *p++);
    return ~c;
}
static int detect(void) { return 1; }
#else
static uint32_t extend_hw(uint32_t crc, const void *bytes, size_t n) { return ccrc32c_extend_portable(crc, bytes, n); }
static int detect(void) { return 0; }
#endif

static int hw_state = -1;  // -1 unknown, 0 table, 1 hardware

int ccrc32c_is_hardware(void) {
    int s = __atomic_load_n(&hw_state, __ATOMIC_RELAXED);
    if (s < 0) { s = detect() ? 1 : 0; __atomic_store_n(&hw_state, s, __ATOMIC_RELAXED); }
    return s;
}

uint32_t ccrc32c_extend(uint32_t crc, const void *bytes, size_t n) {
    return ccrc32c_is_hardware() ? extend_hw(crc, bytes, n) : ccrc32c_extend_portable(crc, bytes, n);
}

uint32_t ccrc32c_seq_and_body(uint64_t seq, const void *body, size_t n) {
    unsigned char key[8];
    for (int i = 0; i < 8; i++) key[i] = (unsigned char)(seq >> (56 - 8 * i));
    if (ccrc32c_is_hardware()) return extend_hw(extend_hw(0, key, 8), body, n);
    return ccrc32c_extend_portable(ccrc32c_extend_portable(0, key, 8), body, n);
}
