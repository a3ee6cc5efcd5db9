//! A Sentry event read straight from its JSON text into the fields cairn maps, without building
//! a document: strings borrow from the text where they hold no escape, and every section cairn
//! does not read (breadcrumbs, contexts, request, modules, …) is only scanned.
//!
//! Reading is lenient, as SDKs and old clients send every shape: a field of an unexpected type
//! reads as [`Scalar::Other`] or [`Shape::Other`], never as an error. The one error beside
//! invalid JSON is a key repeated within one object (serde's derive refuses it, where a document
//! keeps the last value): the caller then reads the event again from its document, serialised
//! once, which holds every key once.
//!
//! Besides the fields, it records what decides whether trimming would change the event
//! (`debug_meta`, how many breadcrumbs, frames and their `vars`): see
//! `payload::unchanged_by_trimming`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One JSON value read as a scalar. Objects and arrays are skipped ([`Scalar::Other`]).
#[derive(Debug, Clone, Default)]
pub(super) enum Scalar<'a> {
    /// The key was not there.
    #[default]
    Absent,
    Null,
    Str(Cow<'a, str>),
    Num(serde_json::Number),
    Bool(bool),
    /// An object or an array.
    Other,
}

impl<'a> Scalar<'a> {
    /// A document's value (`None`: no such key) read as a scalar, borrowing its string.
    pub(super) fn of(value: Option<&'a serde_json::Value>) -> Self {
        use serde_json::Value;
        match value {
            None => Self::Absent,
            Some(Value::Null) => Self::Null,
            Some(Value::String(s)) => Self::Str(Cow::Borrowed(s)),
            Some(Value::Number(n)) => Self::Num(n.clone()),
            Some(Value::Bool(b)) => Self::Bool(*b),
            Some(Value::Array(_) | Value::Object(_)) => Self::Other,
        }
    }

    pub(super) fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Equal as JSON values (thread ids): objects and arrays, which are not kept, never match.
    pub(super) fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Null, Self::Null) => true,
            (Self::Str(a), Self::Str(b)) => a == b,
            (Self::Num(a), Self::Num(b)) => a == b,
            (Self::Bool(a), Self::Bool(b)) => a == b,
            _ => false,
        }
    }
}

/// Drains an array whose elements are not kept.
fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Drains an object whose entries are not kept.
fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The scalar visits, shared by [`Scalar`] and [`Shape`] (whose scalars are [`Shape::Scalar`]).
macro_rules! scalar_visits {
    ($wrap:expr) => {
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Bool(v)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Num(v.into())))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Num(v.into())))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok($wrap(
                serde_json::Number::from_f64(v).map_or(Scalar::Null, Scalar::Num),
            ))
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Str(Cow::Borrowed(v))))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Str(Cow::Owned(v.to_owned()))))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Str(Cow::Owned(v))))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Null))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($wrap(Scalar::Null))
        }
    };
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalar_visits!(|s| s);
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                skip_seq(seq).map(|()| Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                skip_map(map).map(|()| Scalar::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A value that is an object of type `T`, an array of them, or anything else.
#[derive(Debug, Default)]
pub(super) enum Shape<'a, T> {
    #[default]
    Absent,
    Map(T),
    /// An array: its object elements, and how many elements it had in all.
    Seq(Vec<T>, usize),
    /// A string, number, boolean or null.
    Scalar(Scalar<'a>),
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Shape<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a, T>(PhantomData<(&'a (), T)>);
        impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for V<'a, T> {
            type Value = Shape<'a, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalar_visits!(Shape::Scalar);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let (mut kept, mut all) = (Vec::new(), 0);
                while let Some(element) = seq.next_element::<Shape<'a, T>>()? {
                    all += 1;
                    if let Shape::Map(t) = element {
                        kept.push(t);
                    }
                }
                Ok(Shape::Seq(kept, all))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Shape::Map)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<'a, T> Shape<'a, T> {
    pub(super) fn as_map(&self) -> Option<&T> {
        match self {
            Shape::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The object elements, when this is an array.
    pub(super) fn as_seq(&self) -> Option<&[T]> {
        match self {
            Shape::Seq(list, _) => Some(list),
            _ => None,
        }
    }

    /// The objects of an interface (`exception`, `threads`): an object's `values` array (read
    /// by `values`; none when it is not an array), the object itself when it has no `values`,
    /// or an array's objects.
    pub(super) fn interface_objects(&self, values: fn(&T) -> &Values<'a, T>) -> Vec<&T> {
        match self {
            Shape::Map(object) => match values(object).0.as_deref() {
                Some(list) => list
                    .as_seq()
                    .map(|l| l.iter().collect())
                    .unwrap_or_default(),
                None => vec![object],
            },
            Shape::Seq(list, _) => list.iter().collect(),
            _ => Vec::new(),
        }
    }
}

/// `{"values": [...]}` inside an interface: the key's value as a [`Shape`], boxed apart so an
/// object type may hold it of its own type.
#[derive(Debug, Default)]
pub(super) struct Values<'a, T>(pub Option<Box<Shape<'a, T>>>);

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Values<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Shape::deserialize(d).map(|s| Values(Some(Box::new(s))))
    }
}

/// Whether a key was there (whatever its value).
#[derive(Debug, Default)]
pub(super) struct Present(pub bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// `debug_meta`, read for what resolution needs (the `sourcemap` images' `code_file` and
/// `debug_id`, as the JavaScript SDKs send them), and whether it holds anything else: another
/// key, another kind of image or image field, or a value that is not an object. Only a
/// `debug_meta` of source-map images alone is stored with the event (`payload.rs`), so an event
/// without anything else to trim is kept as sent, never parsed into a document.
#[derive(Debug, Default)]
pub(super) struct DebugMeta<'a> {
    /// `(code_file, debug_id)` of each `sourcemap` image, in order.
    pub images: Vec<(Scalar<'a>, Scalar<'a>)>,
    /// Anything but source-map images.
    pub other: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for DebugMeta<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = DebugMeta<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalar_visits!(|_| DebugMeta {
                images: Vec::new(),
                other: true,
            });
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(DebugMeta {
                    images: Vec::new(),
                    other: true,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut meta = DebugMeta::default();
                while let Some(key) = map.next_key::<Scalar<'a>>()? {
                    if key.as_str() == Some("images") {
                        match map.next_value::<Shape<'a, SourceMapImage<'a>>>()? {
                            Shape::Seq(images, all) => {
                                meta.other |= images.len() != all;
                                for image in images {
                                    meta.other |= image.other;
                                    if !image.other {
                                        meta.images.push((image.code_file, image.debug_id));
                                    }
                                }
                            }
                            _ => meta.other = true,
                        }
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        meta.other = true;
                    }
                }
                Ok(meta)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// One image of `debug_meta.images`: `other` unless it is `{"type": "sourcemap", "code_file",
/// "debug_id"}` with nothing else.
#[derive(Debug, Default)]
pub(super) struct SourceMapImage<'a> {
    pub code_file: Scalar<'a>,
    pub debug_id: Scalar<'a>,
    pub other: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for SourceMapImage<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = SourceMapImage<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut image = SourceMapImage::default();
                let mut sourcemap = false;
                while let Some(key) = map.next_key::<Scalar<'a>>()? {
                    match key.as_str() {
                        Some("type") => {
                            sourcemap =
                                map.next_value::<Scalar<'a>>()?.as_str() == Some("sourcemap")
                        }
                        Some("code_file") => image.code_file = map.next_value()?,
                        Some("debug_id") => image.debug_id = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            image.other = true;
                        }
                    }
                }
                image.other |= !sourcemap;
                Ok(image)
            }
        }
        // Only objects come here: `Shape` reads the array and leaves other elements out.
        d.deserialize_map(V(PhantomData))
    }
}

/// An object whose content is not kept (a breadcrumb).
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct Ignored {}

/// `tags`: an object, or an array of `[key, value]` pairs, in the order sent.
#[derive(Debug, Default)]
pub(super) enum Tags<'a> {
    #[default]
    Other,
    Map(Vec<(Cow<'a, str>, Scalar<'a>)>),
    /// Elements that are not a two-element array starting with a string are `None`.
    Pairs(Vec<Option<(Cow<'a, str>, Scalar<'a>)>>),
}

/// One element of a `tags` array.
struct Pair<'a>(Option<(Cow<'a, str>, Scalar<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Pair<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Pair<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalar_visits!(|_| Pair(None));
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let key = seq.next_element::<Scalar<'a>>()?;
                let value = seq.next_element::<Scalar<'a>>()?;
                let more = seq.next_element::<IgnoredAny>()?.is_some();
                if more {
                    skip_seq(seq)?;
                }
                Ok(Pair(match (key, value, more) {
                    (Some(Scalar::Str(k)), Some(v), false) => Some((k, v)),
                    _ => None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                skip_map(map).map(|()| Pair(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Tags<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalar_visits!(|_| Tags::Other);
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some(Pair(pair)) = seq.next_element::<Pair<'a>>()? {
                    pairs.push(pair);
                }
                Ok(Tags::Pairs(pairs))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<Scalar<'a>, Scalar<'a>>()? {
                    if let Scalar::Str(key) = key {
                        entries.push((key, value));
                    }
                }
                Ok(Tags::Map(entries))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// `fingerprint`: an array of scalars.
#[derive(Debug, Default)]
pub(super) struct Scalars<'a>(pub Option<Vec<Scalar<'a>>>);

impl<'de: 'a, 'a> Deserialize<'de> for Scalars<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalars<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalar_visits!(|_| Scalars(None));
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<Scalar<'a>>()? {
                    out.push(s);
                }
                Ok(Scalars(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                skip_map(map).map(|()| Scalars(None))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The top-level event: the keys cairn reads, and those that decide trimming.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Event<'a> {
    #[serde(borrow)]
    pub event_id: Scalar<'a>,
    #[serde(borrow)]
    pub exception: Shape<'a, Exception<'a>>,
    #[serde(borrow)]
    pub logentry: Shape<'a, Message<'a>>,
    #[serde(borrow)]
    pub message: Shape<'a, Message<'a>>,
    #[serde(borrow)]
    pub stacktrace: Shape<'a, Stacktrace<'a>>,
    #[serde(borrow)]
    pub threads: Shape<'a, Thread<'a>>,
    #[serde(borrow)]
    pub tags: Tags<'a>,
    #[serde(borrow)]
    pub release: Scalar<'a>,
    #[serde(borrow)]
    pub environment: Scalar<'a>,
    #[serde(borrow)]
    pub timestamp: Scalar<'a>,
    #[serde(borrow)]
    pub user: Shape<'a, User<'a>>,
    #[serde(borrow)]
    pub fingerprint: Scalars<'a>,
    #[serde(borrow)]
    pub level: Scalar<'a>,
    #[serde(borrow)]
    pub platform: Scalar<'a>,
    #[serde(borrow)]
    pub sdk: Shape<'a, Sdk<'a>>,
    #[serde(borrow)]
    pub server_name: Scalar<'a>,
    #[serde(borrow)]
    pub logger: Scalar<'a>,
    #[serde(borrow)]
    pub transaction: Scalar<'a>,
    #[serde(borrow)]
    pub debug_meta: DebugMeta<'a>,
    #[serde(borrow)]
    pub breadcrumbs: Shape<'a, Breadcrumbs<'a>>,
}

/// One exception; `values` when it is the `exception` interface itself.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Exception<'a> {
    #[serde(rename = "type", borrow)]
    pub ty: Scalar<'a>,
    #[serde(borrow)]
    pub value: Scalar<'a>,
    #[serde(borrow)]
    pub stacktrace: Shape<'a, Stacktrace<'a>>,
    #[serde(borrow)]
    pub raw_stacktrace: Shape<'a, Stacktrace<'a>>,
    #[serde(borrow)]
    pub mechanism: Shape<'a, Mechanism<'a>>,
    #[serde(borrow)]
    pub thread_id: Scalar<'a>,
    #[serde(borrow)]
    pub values: Values<'a, Exception<'a>>,
}

/// One thread; `values` when it is the `threads` interface itself.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Thread<'a> {
    #[serde(borrow)]
    pub id: Scalar<'a>,
    #[serde(borrow)]
    pub crashed: Scalar<'a>,
    #[serde(borrow)]
    pub current: Scalar<'a>,
    #[serde(borrow)]
    pub stacktrace: Shape<'a, Stacktrace<'a>>,
    #[serde(borrow)]
    pub raw_stacktrace: Shape<'a, Stacktrace<'a>>,
    #[serde(borrow)]
    pub values: Values<'a, Thread<'a>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Stacktrace<'a> {
    #[serde(borrow)]
    pub frames: Shape<'a, Frame<'a>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Frame<'a> {
    #[serde(borrow)]
    pub abs_path: Scalar<'a>,
    #[serde(borrow)]
    pub filename: Scalar<'a>,
    #[serde(borrow)]
    pub module: Scalar<'a>,
    #[serde(borrow)]
    pub function: Scalar<'a>,
    #[serde(borrow)]
    pub lineno: Scalar<'a>,
    #[serde(borrow)]
    pub colno: Scalar<'a>,
    #[serde(borrow)]
    pub in_app: Scalar<'a>,
    pub vars: Present,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Mechanism<'a> {
    #[serde(borrow)]
    pub handled: Scalar<'a>,
    #[serde(rename = "type", borrow)]
    pub ty: Scalar<'a>,
}

/// `logentry` / `message` as an object.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Message<'a> {
    #[serde(borrow)]
    pub formatted: Scalar<'a>,
    #[serde(borrow)]
    pub message: Scalar<'a>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct User<'a> {
    #[serde(borrow)]
    pub id: Scalar<'a>,
    #[serde(borrow)]
    pub email: Scalar<'a>,
    #[serde(borrow)]
    pub ip_address: Scalar<'a>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Sdk<'a> {
    #[serde(borrow)]
    pub name: Scalar<'a>,
    #[serde(borrow)]
    pub version: Scalar<'a>,
}

/// `breadcrumbs` as `{"values": [...]}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct Breadcrumbs<'a> {
    #[serde(borrow)]
    pub values: Shape<'a, Ignored>,
}

/// Reads `bytes` (a JSON object) as an [`Event`]. `Err` for invalid JSON, a repeated key, or a
/// value that is not an object (the caller reads the document instead, which tells them apart).
pub(super) fn read(bytes: &[u8]) -> Result<Event<'_>, serde_json::Error> {
    let object = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    if !object {
        // serde's derive would read an array as the struct's fields in order.
        return Err(serde::de::Error::custom("not a json object"));
    }
    serde_json::from_slice(bytes)
}
