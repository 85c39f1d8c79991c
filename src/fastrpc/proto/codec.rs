// SPDX-License-Identifier: GPL-2.0

//! How fixed-layout wire structures are declared: [`wire_struct!`] gives a
//! structure its fields in wire order, its C size (checked at build time),
//! and a little-endian encoder and decoder.
//!
//! Pure code (no kernel API), also built and tested on the host.

/// Writes fields in order.
pub(crate) struct Enc<const N: usize> {
    b: [u8; N],
    at: usize,
}

impl<const N: usize> Enc<N> {
    pub(crate) const fn new() -> Self {
        Self { b: [0; N], at: 0 }
    }

    pub(crate) fn put(mut self, v: &[u8]) -> Self {
        self.b[self.at..self.at + v.len()].copy_from_slice(v);
        self.at += v.len();
        self
    }

    pub(crate) fn done(self) -> [u8; N] {
        debug_assert_eq!(self.at, N);
        self.b
    }
}

/// Reads fields in order from a buffer known to be long enough.
pub(crate) struct Dec<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Dec<'a> {
    /// `None` if `b` is shorter than `size`.
    pub(crate) fn new(b: &'a [u8], size: usize) -> Option<Self> {
        Some(Self {
            b: b.get(..size)?,
            at: 0,
        })
    }

    pub(crate) fn u32(&mut self) -> u32 {
        let w = &self.b[self.at..self.at + 4];
        self.at += 4;
        u32::from_le_bytes([w[0], w[1], w[2], w[3]])
    }

    pub(crate) fn i32(&mut self) -> i32 {
        self.u32() as i32
    }

    pub(crate) fn u64(&mut self) -> u64 {
        let lo = u64::from(self.u32());
        lo | (u64::from(self.u32()) << 32)
    }
}

/// Declares a wire structure: its fields in wire order (little-endian
/// `i32`/`u32`/`u64`), `SIZE` (the C structure's size, checked at build
/// time so that no implicit padding hides), `encode` and `decode` (`None`
/// if the bytes are too short; extra bytes are ignored).
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $name:ident, $size:literal {
            $($(#[$fmeta:meta])* $field:ident: $ty:ident,)*
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub(crate) struct $name {
            $($(#[$fmeta])* pub(crate) $field: $ty,)*
        }

        const _: () = assert!(core::mem::size_of::<$name>() == <$name>::SIZE);

        impl $name {
            pub(crate) const SIZE: usize = $size;

            /// The wire bytes.
            #[allow(dead_code)] // Each side uses one direction.
            pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
                Enc::new()$(.put(&self.$field.to_le_bytes()))*.done()
            }

            /// Parses the wire bytes; `None` if they are too short.
            #[allow(dead_code)] // Each side uses one direction.
            pub(crate) fn decode(b: &[u8]) -> Option<Self> {
                let mut d = Dec::new(b, Self::SIZE)?;
                Some(Self { $($field: d.$ty(),)* })
            }
        }
    };
}

pub(crate) use wire_struct;
