//! JCS written straight from a [`Serialize`] type, without a `serde_json::Value` first.
//!
//! Content hashes (a review protocol's, for one) are JCS of a Rust value; building the
//! `Value` tree costs more than writing the bytes. The output is byte-for-byte
//! `canonicalize(&serde_json::to_value(x)?)`, which the tests hold it to, with one
//! difference: floating-point map keys are refused (`serde_json` formats them its own way).
//!
//! Members are written in the order they come; an object whose names arrive unsorted is
//! rewritten in sorted order when it closes. A repeated name keeps its last value, as a
//! `serde_json::Map` would.

use serde::ser::{self, Impossible, Serialize};
use std::borrow::Cow;
use std::fmt::Display;

use super::{compare_names, itoa_u64, write_double, write_string, MAX_SAFE_INTEGER};

/// Why a value has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no JSON form: {0}")]
pub struct JcsError(String);

impl ser::Error for JcsError {
    fn custom<T: Display>(message: T) -> Self {
        JcsError(message.to_string())
    }
}

/// Returns the RFC 8785 canonical bytes of `value`'s JSON form.
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JcsError> {
    let mut writer = Writer {
        out: Vec::with_capacity(1024),
    };
    value.serialize(&mut writer)?;
    Ok(writer.out)
}

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn unsigned(&mut self, v: u64) {
        if v <= MAX_SAFE_INTEGER {
            self.out.extend_from_slice(itoa_u64(v, &mut [0u8; 20]));
        } else {
            write_double(v as f64, &mut self.out);
        }
    }

    fn signed(&mut self, v: i64) {
        if v >= 0 {
            self.unsigned(v as u64);
        } else if v.unsigned_abs() <= MAX_SAFE_INTEGER {
            self.out.push(b'-');
            self.out
                .extend_from_slice(itoa_u64(v.unsigned_abs(), &mut [0u8; 20]));
        } else {
            write_double(v as f64, &mut self.out);
        }
    }

    fn double(&mut self, v: f64) {
        // serde_json turns non-finite numbers into null.
        if v.is_finite() {
            write_double(v, &mut self.out);
        } else {
            self.out.extend_from_slice(b"null");
        }
    }

    fn object(&mut self, closing: &'static [u8]) -> Object<'_> {
        self.out.push(b'{');
        Object {
            start: self.out.len(),
            writer: self,
            members: Vec::new(),
            closing,
        }
    }

    /// Opens `{"variant":` for an externally tagged enum variant.
    fn variant(&mut self, variant: &str) {
        self.out.push(b'{');
        write_string(variant, &mut self.out);
        self.out.push(b':');
    }
}

/// An array being written.
struct Array<'w> {
    writer: &'w mut Writer,
    first: bool,
    closing: &'static [u8],
}

impl Array<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        if !std::mem::take(&mut self.first) {
            self.writer.out.push(b',');
        }
        value.serialize(&mut *self.writer)
    }

    fn close(self) {
        self.writer.out.extend_from_slice(self.closing);
    }
}

/// An object being written: each member's name and byte range (name to value).
struct Object<'w> {
    writer: &'w mut Writer,
    start: usize,
    members: Vec<(Cow<'static, str>, usize, usize)>,
    closing: &'static [u8],
}

impl Object<'_> {
    fn member<T: Serialize + ?Sized>(
        &mut self,
        name: Cow<'static, str>,
        value: &T,
    ) -> Result<(), JcsError> {
        let out = &mut self.writer.out;
        if !self.members.is_empty() {
            out.push(b',');
        }
        let from = out.len();
        write_string(&name, out);
        out.push(b':');
        value.serialize(&mut *self.writer)?;
        self.members.push((name, from, self.writer.out.len()));
        Ok(())
    }

    fn close(self) {
        let out = &mut self.writer.out;
        let sorted = self
            .members
            .windows(2)
            .all(|pair| compare_names(&pair[0].0, &pair[1].0).is_lt());
        if !sorted {
            let written = out.split_off(self.start);
            let mut order: Vec<usize> = (0..self.members.len()).collect();
            order.sort_by(|&a, &b| compare_names(&self.members[a].0, &self.members[b].0));
            let mut first = true;
            for (i, &member) in order.iter().enumerate() {
                // Of equal names the last one written wins (the stable sort keeps them in
                // writing order).
                if order
                    .get(i + 1)
                    .is_some_and(|&next| self.members[next].0 == self.members[member].0)
                {
                    continue;
                }
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                let (_, from, to) = self.members[member];
                out.extend_from_slice(&written[from - self.start..to - self.start]);
            }
        }
        out.push(b'}');
        out.extend_from_slice(self.closing);
    }
}

/// An object whose next member's name came through `serialize_key`.
struct MapObject<'w> {
    object: Object<'w>,
    key: Option<Cow<'static, str>>,
}

impl<'w> ser::Serializer for &'w mut Writer {
    type Ok = ();
    type Error = JcsError;
    type SerializeSeq = Array<'w>;
    type SerializeTuple = Array<'w>;
    type SerializeTupleStruct = Array<'w>;
    type SerializeTupleVariant = Array<'w>;
    type SerializeMap = MapObject<'w>;
    type SerializeStruct = Object<'w>;
    type SerializeStructVariant = Object<'w>;

    fn serialize_bool(self, v: bool) -> Result<(), JcsError> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), JcsError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), JcsError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), JcsError> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), JcsError> {
        self.signed(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), JcsError> {
        match (u64::try_from(v), i64::try_from(v)) {
            (Ok(u), _) => self.unsigned(u),
            (_, Ok(i)) => self.signed(i),
            _ => return Err(JcsError(format!("{v} is out of a JSON number's range"))),
        }
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), JcsError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), JcsError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), JcsError> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), JcsError> {
        self.unsigned(v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), JcsError> {
        let v = u64::try_from(v)
            .map_err(|_| JcsError(format!("{v} is out of a JSON number's range")))?;
        self.serialize_u64(v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), JcsError> {
        self.double(v.into());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), JcsError> {
        self.double(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), JcsError> {
        write_string(v.encode_utf8(&mut [0u8; 4]), &mut self.out);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), JcsError> {
        write_string(v, &mut self.out);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), JcsError> {
        use ser::SerializeSeq;
        let mut array = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            array.serialize_element(byte)?;
        }
        array.end()
    }
    fn serialize_none(self) -> Result<(), JcsError> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), JcsError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), JcsError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), JcsError> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), JcsError> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), JcsError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), JcsError> {
        self.variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Array<'w>, JcsError> {
        self.out.push(b'[');
        Ok(Array {
            writer: self,
            first: true,
            closing: b"]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Array<'w>, JcsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Array<'w>, JcsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Array<'w>, JcsError> {
        self.variant(variant);
        self.out.push(b'[');
        Ok(Array {
            writer: self,
            first: true,
            closing: b"]}",
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapObject<'w>, JcsError> {
        Ok(MapObject {
            object: self.object(b""),
            key: None,
        })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Object<'w>, JcsError> {
        Ok(self.object(b""))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Object<'w>, JcsError> {
        self.variant(variant);
        Ok(self.object(b"}"))
    }
}

/// serde's four sequence traits differ only in their names: each writes an element.
macro_rules! array_elements {
    ($($trait:ident::$method:ident),*) => {$(
        impl ser::$trait for Array<'_> {
            type Ok = ();
            type Error = JcsError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
                self.element(value)
            }
            fn end(self) -> Result<(), JcsError> {
                self.close();
                Ok(())
            }
        }
    )*};
}

array_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// A struct and a struct variant's fields are written alike.
macro_rules! struct_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Object<'_> {
            type Ok = ();
            type Error = JcsError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result<(), JcsError> {
                self.member(Cow::Borrowed(name), value)
            }
            fn end(self) -> Result<(), JcsError> {
                self.close();
                Ok(())
            }
        }
    )*};
}

struct_fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for MapObject<'_> {
    type Ok = ();
    type Error = JcsError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), JcsError> {
        self.key = Some(Cow::Owned(key.serialize(KeyWriter)?));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), JcsError> {
        let name = self
            .key
            .take()
            .ok_or_else(|| JcsError("a map value came without its key".into()))?;
        self.object.member(name, value)
    }
    fn end(self) -> Result<(), JcsError> {
        self.object.close();
        Ok(())
    }
}

/// Map keys as `serde_json` writes them: strings, and integers, booleans and unit
/// variants as their text.
struct KeyWriter;

fn key_must_be_a_string() -> JcsError {
    JcsError("a map key must be a string".into())
}

impl ser::Serializer for KeyWriter {
    type Ok = String;
    type Error = JcsError;
    type SerializeSeq = Impossible<String, JcsError>;
    type SerializeTuple = Impossible<String, JcsError>;
    type SerializeTupleStruct = Impossible<String, JcsError>;
    type SerializeTupleVariant = Impossible<String, JcsError>;
    type SerializeMap = Impossible<String, JcsError>;
    type SerializeStruct = Impossible<String, JcsError>;
    type SerializeStructVariant = Impossible<String, JcsError>;

    fn serialize_bool(self, v: bool) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _: f32) -> Result<String, JcsError> {
        Err(JcsError("floating-point map keys are refused".into()))
    }
    fn serialize_f64(self, _: f64) -> Result<String, JcsError> {
        Err(JcsError("floating-point map keys are refused".into()))
    }
    fn serialize_char(self, v: char) -> Result<String, JcsError> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, JcsError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<String, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<String, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<String, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, JcsError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, JcsError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, JcsError> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, JcsError> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jcs::canonicalize;
    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::Value;
    use std::collections::BTreeMap;

    /// The oracle: through a `serde_json::Value`.
    fn through_value<T: Serialize>(value: &T) -> Vec<u8> {
        canonicalize(&serde_json::to_value(value).unwrap())
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Record {
        zeta: u8,
        alpha_beta: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        shapes: Vec<Shape>,
        pair: (i64, f32),
        big: u128,
        small: i128,
        unit: (),
        letter: char,
        bytes: serde_bytes_like::Bytes,
        by_number: BTreeMap<u32, bool>,
        by_flag: BTreeMap<bool, Value>,
        by_kind: BTreeMap<Kind, Wrapper>,
        #[serde(flatten)]
        extra: BTreeMap<String, Value>,
    }

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Segment(i32, i64),
        Box { width: u16, height: u16 },
    }

    #[derive(Serialize)]
    #[serde(tag = "kind")]
    enum Tagged {
        Measured { unit: String, limit: f64 },
        Checked,
    }

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Kind {
        Zed,
        Ay,
    }

    #[derive(Serialize)]
    struct Wrapper(Tagged);

    mod serde_bytes_like {
        /// Serialized with `serialize_bytes`.
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn every_serde_shape_writes_what_the_value_route_writes() {
        let record = Record {
            zeta: 7,
            alpha_beta: None,
            skipped: None,
            shapes: vec![
                Shape::Dot,
                Shape::Circle(1e21),
                Shape::Circle(f64::NAN),
                Shape::Segment(-3, 9_007_199_254_740_993),
                Shape::Box {
                    width: 3,
                    height: 4,
                },
            ],
            pair: (-9_007_199_254_740_993, 0.1),
            big: u128::from(u64::MAX),
            small: -5,
            unit: (),
            letter: '\u{1F600}',
            bytes: serde_bytes_like::Bytes(vec![0, 255]),
            by_number: BTreeMap::from([(10, true), (9, false)]),
            by_flag: BTreeMap::from([(true, Value::Null), (false, serde_json::json!([1.5]))]),
            by_kind: BTreeMap::from([
                (
                    Kind::Zed,
                    Wrapper(Tagged::Measured {
                        unit: "V\n\"".into(),
                        limit: -0.0,
                    }),
                ),
                (Kind::Ay, Wrapper(Tagged::Checked)),
            ]),
            extra: BTreeMap::from([
                ("\u{e000}".into(), Value::from(1)),
                ("\u{10000}".into(), Value::from(2)),
                (
                    "zeta".into(),
                    Value::from("flattened after the field: it wins"),
                ),
            ]),
        };
        let ours = to_canonical(&record).unwrap();
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(through_value(&record)).unwrap()
        );
    }

    #[test]
    fn what_has_no_json_form_is_refused() {
        assert!(to_canonical(&u128::MAX).is_err());
        assert!(to_canonical(&i128::MIN).is_err());
        assert!(to_canonical(&BTreeMap::from([(vec![1u8], 1)])).is_err());
        assert_eq!(
            to_canonical(&std::collections::HashMap::from([(1.5f64.to_bits(), 1)])).unwrap(),
            format!("{{\"{}\":1}}", 1.5f64.to_bits()).into_bytes()
        );
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-c\u{e000}\u{10000}\"\\\\\n ]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec(("[a-c\u{e000}\u{10000}]{0,3}", inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_value_writes_what_canonicalize_writes(value in json()) {
            prop_assert_eq!(to_canonical(&value).unwrap(), canonicalize(&value));
        }
    }
}
