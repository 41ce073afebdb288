/* SPDX-License-Identifier: GPL-2.0 */
/* shim/stdint.h - abi/bvmm.h includes <stdint.h>; in the kernel the fixed-width types
 * (uint8_t .. uint64_t, int8_t, int32_t, uintptr_t) come from <linux/types.h>. */
#ifndef BVMM_SHIM_STDINT_H
#define BVMM_SHIM_STDINT_H
#include <linux/types.h>
#endif
