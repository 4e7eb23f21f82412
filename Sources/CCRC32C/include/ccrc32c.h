#ifndef CCRC32C_H
#define CCRC32C_H
#include <stddef.h>
#include <stdint.h>

/// CRC32C (Castagnoli) of `length` bytes, continuing from `crc` (pass 0 to start).
/// Uses the CPU's CRC32 instruction when present (SSE4.2 on x86-64, CRC on arm64), else a table.
uint32_t ccrc32c_extend(uint32_t crc, const void *bytes, size_t length);

/// CRC32C of `seq` as 8 big-endian bytes followed by `length` bytes of `body`, in one call (a
/// journal record's checksum): the same as extending 0 by the 8 bytes, then by the body.
uint32_t ccrc32c_seq_and_body(uint64_t seq, const void *body, size_t length);

/// 1 when the hardware path is in use, 0 for the portable table.
int ccrc32c_is_hardware(void);

/// The portable path, always available; tests check it against the hardware path.
uint32_t ccrc32c_extend_portable(uint32_t crc, const void *bytes, size_t length);
#endif
