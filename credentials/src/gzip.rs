//! Reading GZIP (RFC 1952) into memory in one pass.
//!
//! Status lists are GZIP-compressed and read on every verification. A streaming decoder
//! allocates and clears a 32 KiB window, then copies every output byte out of it; here
//! DEFLATE writes straight into the output, so a list costs its inflation and its CRC.
//! Every member of a multi-member file is read, as `gunzip` does; anything after the last
//! member is refused.

use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
use miniz_oxide::inflate::core::{decompress as inflate, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

/// Why GZIP data could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GzipError {
    /// The data does not start with a GZIP member header.
    #[error("not a GZIP member (no 1f 8b header)")]
    NotGzip,
    /// A member header names something this reader cannot read.
    #[error("GZIP header: {0}")]
    Header(&'static str),
    /// The data ends inside a member.
    #[error("GZIP data ends inside a member")]
    Truncated,
    /// The DEFLATE stream is invalid.
    #[error("invalid DEFLATE data ({0:?})")]
    Deflate(TINFLStatus),
    /// A member's trailer does not match what it decompressed to.
    #[error("GZIP trailer: {0}")]
    Trailer(&'static str),
    /// The data decompresses to more than the limit.
    #[error("decompresses to more than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

/// Decompresses every member of `data`, refusing output beyond `limit` bytes.
/// `expected` sizes the first allocation (the usual output size).
pub fn decompress(mut data: &[u8], expected: usize, limit: usize) -> Result<Vec<u8>, GzipError> {
    let mut out = vec![0u8; expected.clamp(1, limit.saturating_add(1))];
    let mut len = 0;
    loop {
        data = skip_header(data)?;
        let start = len;
        let mut inflater = DecompressorOxide::new();
        loop {
            // The member's output so far is in `out[start..len]`: back-references may
            // reach into it, never into an earlier member.
            let (status, read, written) = inflate(
                &mut inflater,
                data,
                &mut out[start..],
                len - start,
                TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
            );
            data = &data[read.min(data.len())..];
            len += written;
            match status {
                TINFLStatus::Done => break,
                TINFLStatus::HasMoreOutput if out.len() > limit => {
                    return Err(GzipError::TooLarge { limit })
                }
                TINFLStatus::HasMoreOutput => {
                    let grown = out.len().saturating_mul(2).min(limit.saturating_add(1));
                    out.resize(grown, 0);
                }
                TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                    return Err(GzipError::Truncated)
                }
                failed => return Err(GzipError::Deflate(failed)),
            }
        }
        if len > limit {
            return Err(GzipError::TooLarge { limit });
        }
        let (trailer, rest) = data.split_first_chunk::<8>().ok_or(GzipError::Truncated)?;
        let [crc @ .., _, _, _, _] = *trailer;
        let [_, _, _, _, size @ ..] = *trailer;
        if u32::from_le_bytes(crc) != crc32fast::hash(&out[start..len]) {
            return Err(GzipError::Trailer("the CRC-32 does not match the data"));
        }
        // ISIZE is the length modulo 2^32.
        if u32::from_le_bytes(size) != (len - start) as u32 {
            return Err(GzipError::Trailer("the length does not match the data"));
        }
        data = rest;
        if data.is_empty() {
            out.truncate(len);
            return Ok(out);
        }
    }
}

/// The data after a member header, checked.
fn skip_header(data: &[u8]) -> Result<&[u8], GzipError> {
    let [0x1f, 0x8b, method, flags, _mtime0, _mtime1, _mtime2, _mtime3, _xfl, _os, ref rest @ ..] =
        *data
    else {
        return Err(GzipError::NotGzip);
    };
    if method != 8 {
        return Err(GzipError::Header("the compression method is not DEFLATE"));
    }
    if flags & RESERVED != 0 {
        return Err(GzipError::Header("reserved flag bits are set"));
    }
    let mut rest = rest;
    if flags & FEXTRA != 0 {
        let (length, tail) = rest.split_first_chunk::<2>().ok_or(GzipError::Truncated)?;
        rest = tail
            .get(usize::from(u16::from_le_bytes(*length))..)
            .ok_or(GzipError::Truncated)?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(GzipError::Truncated)?;
            rest = &rest[end + 1..];
        }
    }
    if flags & FHCRC != 0 {
        let header = &data[..data.len() - rest.len()];
        let (crc16, tail) = rest.split_first_chunk::<2>().ok_or(GzipError::Truncated)?;
        if u32::from(u16::from_le_bytes(*crc16)) != crc32fast::hash(header) & 0xffff {
            return Err(GzipError::Header("the header CRC does not match"));
        }
        rest = tail;
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder};
    use flate2::{Compression, GzBuilder};
    use proptest::prelude::*;
    use std::io::{Read, Write};

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn sample() -> Vec<u8> {
        let mut data = vec![0u8; 16_384];
        for i in [3, 700, 9_000, 16_383] {
            data[i] = 0x5a;
        }
        data
    }

    /// A member with every optional header field, the header CRC included.
    fn member_with_every_header_field(data: &[u8]) -> Vec<u8> {
        let mut member = vec![
            0x1f,
            0x8b,
            8,
            FHCRC | FEXTRA | FNAME | FCOMMENT,
            1,
            2,
            3,
            4,
            0,
            3,
        ];
        member.extend([5, 0, b'A', b'B', 3, 0, b'x']);
        member.extend(b"list.bin\0a comment\0");
        let crc = (crc32fast::hash(&member) & 0xffff) as u16;
        member.extend(crc.to_le_bytes());
        let mut deflate = DeflateEncoder::new(Vec::new(), Compression::best());
        deflate.write_all(data).unwrap();
        member.extend(deflate.finish().unwrap());
        member.extend(crc32fast::hash(data).to_le_bytes());
        member.extend((data.len() as u32).to_le_bytes());
        member
    }

    #[test]
    fn reads_what_flate2_writes_with_and_without_header_fields() {
        let data = sample();
        assert_eq!(decompress(&gzip(&data), 100, 1 << 20).unwrap(), data);
        let named = {
            let mut encoder = GzBuilder::new()
                .filename("status.bin")
                .comment("c")
                .extra(vec![1, 2, 3])
                .write(Vec::new(), Compression::fast());
            encoder.write_all(&data).unwrap();
            encoder.finish().unwrap()
        };
        assert_eq!(decompress(&named, 16_384, 1 << 20).unwrap(), data);
        let full = member_with_every_header_field(&data);
        assert_eq!(decompress(&full, 1, 1 << 20).unwrap(), data);
        assert_eq!(decompress(&gzip(b""), 0, 10).unwrap(), b"");
    }

    #[test]
    fn reads_every_member_and_keeps_members_apart() {
        let mut two = gzip(b"first ");
        two.extend(member_with_every_header_field(b"second"));
        assert_eq!(decompress(&two, 4, 100).unwrap(), b"first second");
        let mut trailing = gzip(b"data");
        trailing.extend(b"junk");
        assert_eq!(decompress(&trailing, 4, 100), Err(GzipError::NotGzip));
    }

    #[test]
    fn refuses_damaged_headers_trailers_and_streams() {
        let data = sample();
        let good = gzip(&data);
        let with = |at: usize, byte: u8| {
            let mut bad = good.clone();
            bad[at] = byte;
            decompress(&bad, 16_384, 1 << 20)
        };
        assert_eq!(with(0, 0x1e), Err(GzipError::NotGzip));
        assert!(matches!(with(2, 9), Err(GzipError::Header(_))));
        assert!(matches!(with(3, 0x20), Err(GzipError::Header(_))));
        let crc_at = good.len() - 8;
        assert!(matches!(
            with(crc_at, good[crc_at] ^ 1),
            Err(GzipError::Trailer(_))
        ));
        let size_at = good.len() - 4;
        assert!(matches!(
            with(size_at, good[size_at] ^ 1),
            Err(GzipError::Trailer(_))
        ));
        let mut full = member_with_every_header_field(&data);
        full[30] ^= 1; // inside the comment: the header CRC catches it
        assert_eq!(
            decompress(&full, 1, 1 << 20),
            Err(GzipError::Header("the header CRC does not match"))
        );
        for cut in 0..good.len() {
            assert!(
                decompress(&good[..cut], 16_384, 1 << 20).is_err(),
                "cut at {cut}"
            );
        }
        // A DEFLATE block type 3 does not exist.
        let mut invalid = good[..10].to_vec();
        invalid.extend([0x07, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            decompress(&invalid, 10, 100),
            Err(GzipError::Deflate(_))
        ));
    }

    #[test]
    fn refuses_output_beyond_the_limit() {
        let data = sample();
        let good = gzip(&data);
        assert_eq!(decompress(&good, 16, data.len()).unwrap(), data);
        assert_eq!(
            decompress(&good, 16, data.len() - 1),
            Err(GzipError::TooLarge {
                limit: data.len() - 1
            })
        );
        assert_eq!(
            decompress(&good, 1 << 20, 100),
            Err(GzipError::TooLarge { limit: 100 })
        );
    }

    proptest! {
        #[test]
        fn agrees_with_flate2(
            data in proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..3000),
            expected in 0usize..5000,
        ) {
            let compressed = gzip(&data);
            let mut theirs = Vec::new();
            flate2::read::MultiGzDecoder::new(&compressed[..]).read_to_end(&mut theirs).unwrap();
            prop_assert_eq!(decompress(&compressed, expected, 1 << 20).unwrap(), theirs);
        }
    }
}
