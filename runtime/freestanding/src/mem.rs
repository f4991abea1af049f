//! `memcpy memmove memset memcmp bcmp`, which the prebuilt `compiler_builtins`
//! of the linux-gnu target leaves to libc. Bulk moves use `rep movsb`/`rep stosb`
//! (fast on CPUs with ERMSB, and a single instruction for an emulator).

use core::arch::asm;

/// Copy `n` bytes from `src` to `dst`, lowest address first.
///
/// # Safety
/// Both ranges must be valid; if they overlap, `dst` must not be above `src`.
#[inline]
pub unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller guarantees both ranges; DF is clear per the SysV ABI.
    unsafe {
        asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
}

/// Copy `n` bytes from `src` to `dst`, highest address first.
///
/// # Safety
/// Both ranges must be valid.
#[inline]
pub unsafe fn copy_backward(dst: *mut u8, src: *const u8, n: usize) {
    if n == 0 {
        return;
    }
    // SAFETY: the caller guarantees both ranges; DF is restored before returning.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.add(n - 1) => _,
            inout("rsi") src.add(n - 1) => _,
            options(nostack)
        );
    }
}

/// Copy between possibly overlapping ranges.
///
/// # Safety
/// Both ranges must be valid.
#[inline]
pub unsafe fn copy_overlapping(dst: *mut u8, src: *const u8, n: usize) {
    // dst below src, or at/after its end: a forward copy never reads a byte it already wrote.
    if (dst as usize).wrapping_sub(src as usize) >= n {
        unsafe { copy_forward(dst, src, n) }
    } else {
        unsafe { copy_backward(dst, src, n) }
    }
}

/// Fill `n` bytes at `dst` with `value`.
///
/// # Safety
/// The range must be valid for writes.
#[inline]
pub unsafe fn fill(dst: *mut u8, value: u8, n: usize) {
    // SAFETY: the caller guarantees the range; DF is clear per the SysV ABI.
    unsafe {
        asm!(
            "rep stosb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            in("al") value,
            options(nostack, preserves_flags)
        );
    }
}

/// Compare `n` bytes; the sign of the result orders the first differing byte.
///
/// # Safety
/// Both ranges must be valid for reads.
#[inline]
pub unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    // Eight bytes at a time while they are equal; the byte loop below
    // finds and orders the first difference.
    while i + 8 <= n {
        // SAFETY: i + 8 <= n and the caller guarantees both ranges.
        let (x, y) = unsafe {
            (
                a.add(i).cast::<u64>().read_unaligned(),
                b.add(i).cast::<u64>().read_unaligned(),
            )
        };
        if x != y {
            break;
        }
        i += 8;
    }
    while i < n {
        // SAFETY: i < n and the caller guarantees both ranges.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

#[cfg(unik_kernel)]
mod exports {
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        unsafe { super::copy_forward(dst, src, n) };
        dst
    }

    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        unsafe { super::copy_overlapping(dst, src, n) };
        dst
    }

    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
        // C semantics: the int is converted to unsigned char.
        unsafe { super::fill(dst, value as u8, n) };
        dst
    }

    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        unsafe { super::compare(a, b, n) }
    }

    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        unsafe { super::compare(a, b, n) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern() -> [u8; 64] {
        let mut buf = [0u8; 64];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
        buf
    }

    #[test]
    fn forward_copy_of_disjoint_ranges() {
        let src = pattern();
        let mut dst = [0xffu8; 64];
        unsafe { copy_forward(dst.as_mut_ptr().add(3), src.as_ptr(), 50) };
        assert_eq!(&dst[3..53], &src[..50]);
        assert_eq!(dst[2], 0xff);
        assert_eq!(dst[53], 0xff);
    }

    #[test]
    fn overlapping_copy_up_and_down() {
        let mut up = pattern();
        let p = up.as_mut_ptr();
        unsafe { copy_overlapping(p.add(5), p, 40) };
        let expect: [u8; 40] = core::array::from_fn(|i| i as u8);
        assert_eq!(&up[5..45], &expect);

        let mut down = pattern();
        let p = down.as_mut_ptr();
        unsafe { copy_overlapping(p, p.add(5), 40) };
        let expect: [u8; 40] = core::array::from_fn(|i| (i + 5) as u8);
        assert_eq!(&down[..40], &expect);
        // DF must be clear again after a backward copy or later string ops break.
        let flags: u64;
        unsafe { core::arch::asm!("pushfq", "pop {}", out(reg) flags) };
        assert_eq!(flags & (1 << 10), 0);
    }

    #[test]
    fn fill_and_compare() {
        let mut buf = [0u8; 32];
        unsafe { fill(buf.as_mut_ptr().add(1), 0xab, 30) };
        assert_eq!(buf[0], 0);
        assert!(buf[1..31].iter().all(|&b| b == 0xab));
        assert_eq!(buf[31], 0);

        let a = [1u8, 2, 3, 4];
        let b = [1u8, 2, 9, 0];
        assert_eq!(unsafe { compare(a.as_ptr(), a.as_ptr(), 4) }, 0);
        assert!(unsafe { compare(a.as_ptr(), b.as_ptr(), 4) } < 0);
        assert!(unsafe { compare(b.as_ptr(), a.as_ptr(), 4) } > 0);
        assert_eq!(unsafe { compare(a.as_ptr(), b.as_ptr(), 2) }, 0);
    }

    #[test]
    fn compare_orders_the_first_difference_at_any_place() {
        let a: [u8; 37] = core::array::from_fn(|i| i as u8);
        for at in 0..a.len() {
            for delta in [1u8, 0x80] {
                let mut b = a;
                b[at] = b[at].wrapping_add(delta);
                let (x, y) = (i32::from(a[at]), i32::from(b[at]));
                // Unaligned starts and every length that includes the byte.
                for start in 0..=at.min(3) {
                    let n = a.len() - start;
                    let r = unsafe { compare(a.as_ptr().add(start), b.as_ptr().add(start), n) };
                    assert_eq!(r, x - y, "difference at {at}, start {start}");
                    let same = unsafe {
                        compare(a.as_ptr().add(start), b.as_ptr().add(start), at - start)
                    };
                    assert_eq!(same, 0, "before {at}");
                }
            }
        }
    }

    #[test]
    fn zero_length_is_a_no_op() {
        let mut buf = pattern();
        let p = buf.as_mut_ptr();
        unsafe {
            copy_backward(p, p.add(1), 0);
            copy_forward(p, p.add(1), 0);
            fill(p, 7, 0);
        }
        assert_eq!(buf, pattern());
    }
}
