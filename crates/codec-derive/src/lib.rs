//! Derive macros for `orrery-codec`: a protocol type declares its layout once and gets `Encode`,
//! `Decode` and `Describe` from it.
//!
//! Structs encode their fields in declaration order; enums encode a natural-number discriminator
//! (the variant's position, or `#[codec(index = N)]`) followed by the variant's fields.
//!
//! Field attributes, `#[codec(...)]`:
//! - `compact`: an integer in the general natural-number encoding instead of fixed width;
//! - `len = NAME`: a `Vec` with no length prefix whose length is the chain spec's `NAME`
//!   (a method of `orrery_codec::Lengths`, e.g. `validators_count`);
//! - `bits = NAME`: a `BitVec` with no length prefix and `NAME` bits;
//! - `name = "..."`: the field's name in `Describe` output (default: the Rust name).
//!
//! Variant attributes: `index = N`, `name = "..."` (default: the variant name in snake case).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, spanned::Spanned, Data, DeriveInput, Expr, ExprLit, Field, Fields, Ident, Lit, LitStr,
};

#[proc_macro_derive(Encode, attributes(codec))]
pub fn derive_encode(input: TokenStream) -> TokenStream {
    expand(input, Kind::Encode)
}

#[proc_macro_derive(Decode, attributes(codec))]
pub fn derive_decode(input: TokenStream) -> TokenStream {
    expand(input, Kind::Decode)
}

#[proc_macro_derive(Describe, attributes(codec))]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    expand(input, Kind::Describe)
}

#[derive(Clone, Copy)]
enum Kind {
    Encode,
    Decode,
    Describe,
}

fn expand(input: TokenStream, kind: Kind) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_inner(&input, kind) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

enum Layout {
    Plain,
    Compact,
    Len(Ident),
    Bits(Ident),
}

struct FieldSpec {
    /// How the field is reached: `self.name` / a binding in a match arm.
    binding: Ident,
    /// The struct member (`name` or `0`) for building the value.
    member: syn::Member,
    ty: syn::Type,
    layout: Layout,
    describe_name: String,
}

fn parse_field(index: usize, field: &Field) -> syn::Result<FieldSpec> {
    let mut layout = Layout::Plain;
    let mut describe_name = field
        .ident
        .as_ref()
        .map(|i| i.to_string().trim_start_matches("r#").to_owned())
        .unwrap_or_else(|| index.to_string());
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("codec")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("compact") {
                layout = Layout::Compact;
            } else if meta.path.is_ident("len") {
                layout = Layout::Len(meta.value()?.parse()?);
            } else if meta.path.is_ident("bits") {
                layout = Layout::Bits(meta.value()?.parse()?);
            } else if meta.path.is_ident("name") {
                describe_name = meta.value()?.parse::<LitStr>()?.value();
            } else {
                return Err(meta.error("unknown codec field attribute"));
            }
            Ok(())
        })?;
    }
    let (binding, member) = match &field.ident {
        Some(ident) => (ident.clone(), syn::Member::Named(ident.clone())),
        None => (format_ident!("__f{}", index), syn::Member::Unnamed(index.into())),
    };
    Ok(FieldSpec { binding, member, ty: field.ty.clone(), layout, describe_name })
}

fn parse_fields(fields: &Fields) -> syn::Result<Vec<FieldSpec>> {
    fields.iter().enumerate().map(|(i, f)| parse_field(i, f)).collect()
}

struct VariantSpec {
    ident: Ident,
    index: u64,
    name: String,
    fields: Vec<FieldSpec>,
    style: Fields,
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn parse_variants(data: &syn::DataEnum) -> syn::Result<Vec<VariantSpec>> {
    let mut out = Vec::new();
    for (position, variant) in data.variants.iter().enumerate() {
        let mut index = position as u64;
        let mut name = snake_case(&variant.ident.to_string());
        for attr in variant.attrs.iter().filter(|a| a.path().is_ident("codec")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("index") {
                    let expr: Expr = meta.value()?.parse()?;
                    match expr {
                        Expr::Lit(ExprLit { lit: Lit::Int(lit), .. }) => index = lit.base10_parse()?,
                        other => return Err(syn::Error::new(other.span(), "index must be an integer")),
                    }
                } else if meta.path.is_ident("name") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                } else {
                    return Err(meta.error("unknown codec variant attribute"));
                }
                Ok(())
            })?;
        }
        out.push(VariantSpec {
            ident: variant.ident.clone(),
            index,
            name,
            fields: parse_fields(&variant.fields)?,
            style: variant.fields.clone(),
        });
    }
    Ok(out)
}

fn expand_inner(input: &DeriveInput, kind: Kind) -> syn::Result<TokenStream2> {
    let name = &input.ident;
    let mut generics = input.generics.clone();
    let bound: syn::Path = match kind {
        Kind::Encode => syn::parse_quote!(::orrery_codec::Encode),
        Kind::Decode => syn::parse_quote!(::orrery_codec::Decode),
        Kind::Describe => syn::parse_quote!(::orrery_codec::Describe),
    };
    for param in generics.type_params_mut() {
        param.bounds.push(syn::TypeParamBound::Trait(syn::TraitBound {
            paren_token: None,
            modifier: syn::TraitBoundModifier::None,
            lifetimes: None,
            path: bound.clone(),
        }));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let type_name = name.to_string();

    let body = match (&input.data, kind) {
        (Data::Struct(data), Kind::Encode) => {
            let fields = parse_fields(&data.fields)?;
            let writes = fields.iter().map(|f| {
                let member = &f.member;
                encode_field(&quote!(self.#member), f)
            });
            let hints = fields.iter().filter(|f| matches!(f.layout, Layout::Plain)).map(|f| {
                let member = &f.member;
                quote!(::orrery_codec::Encode::size_hint(&self.#member))
            });
            quote! {
                impl #impl_generics ::orrery_codec::Encode for #name #ty_generics #where_clause {
                    fn encode_to(&self, __out: &mut ::std::vec::Vec<u8>) {
                        #(#writes)*
                    }
                    fn size_hint(&self) -> usize {
                        0 #(+ #hints)*
                    }
                }
            }
        }
        (Data::Struct(data), Kind::Decode) => {
            let fields = parse_fields(&data.fields)?;
            let reads = fields.iter().map(|f| {
                let member = &f.member;
                let read = decode_field(&type_name, f);
                quote!(#member: #read)
            });
            quote! {
                impl #impl_generics ::orrery_codec::Decode for #name #ty_generics #where_clause {
                    fn decode(__d: &mut ::orrery_codec::Decoder<'_>)
                        -> ::core::result::Result<Self, ::orrery_codec::Error>
                    {
                        ::core::result::Result::Ok(Self { #(#reads,)* })
                    }
                }
            }
        }
        (Data::Struct(data), Kind::Describe) => {
            let fields = parse_fields(&data.fields)?;
            let accessors: Vec<_> = fields
                .iter()
                .map(|f| {
                    let member = &f.member;
                    quote!(self.#member)
                })
                .collect();
            let value = describe_fields(&data.fields, &fields, &accessors);
            quote! {
                impl #impl_generics ::orrery_codec::Describe for #name #ty_generics #where_clause {
                    fn describe(&self) -> ::orrery_codec::Value {
                        #value
                    }
                }
            }
        }
        (Data::Enum(data), kind) => {
            let variants = parse_variants(data)?;
            expand_enum(name, &type_name, &variants, kind, &impl_generics, &ty_generics, where_clause)
        }
        (Data::Union(_), _) => {
            return Err(syn::Error::new(Span::call_site(), "codec derives do not support unions"));
        }
    };
    Ok(body)
}

fn encode_field(access: &TokenStream2, f: &FieldSpec) -> TokenStream2 {
    match &f.layout {
        Layout::Plain => quote!(::orrery_codec::Encode::encode_to(&#access, __out);),
        Layout::Compact => quote!(
            ::orrery_codec::natural::encode_to(::orrery_codec::CompactInt::to_u64(#access), __out);
        ),
        Layout::Len(_) => quote!(::orrery_codec::__private::encode_unprefixed(&#access, __out);),
        Layout::Bits(_) => quote!(::orrery_codec::BitVec::encode_fixed_to(&#access, __out);),
    }
}

fn decode_field(type_name: &str, f: &FieldSpec) -> TokenStream2 {
    let ty = &f.ty;
    let what = format!("{type_name}.{}", f.describe_name);
    match &f.layout {
        Layout::Plain => quote!(<#ty as ::orrery_codec::Decode>::decode(__d)?),
        Layout::Compact => quote!(__d.compact::<#ty>()?),
        Layout::Len(len) => quote!({
            let __n = __d.lengths(#what)?.#len();
            ::orrery_codec::decode_fixed_vec(__d, __n)?
        }),
        Layout::Bits(len) => quote!({
            let __n = __d.lengths(#what)?.#len();
            ::orrery_codec::BitVec::decode_fixed(__d, __n)?
        }),
    }
}

fn describe_fields(style: &Fields, fields: &[FieldSpec], accessors: &[TokenStream2]) -> TokenStream2 {
    match style {
        Fields::Named(_) => {
            let entries = fields.iter().zip(accessors).map(|(f, access)| {
                let key = &f.describe_name;
                quote!((::std::string::String::from(#key), ::orrery_codec::Describe::describe(&#access)))
            });
            quote!(::orrery_codec::Value::Map(::std::vec![#(#entries),*]))
        }
        // A newtype is its content.
        Fields::Unnamed(_) if fields.len() == 1 => {
            let access = &accessors[0];
            quote!(::orrery_codec::Describe::describe(&#access))
        }
        Fields::Unnamed(_) => {
            let items = accessors.iter().map(|access| quote!(::orrery_codec::Describe::describe(&#access)));
            quote!(::orrery_codec::Value::List(::std::vec![#(#items),*]))
        }
        Fields::Unit => quote!(::orrery_codec::Value::Null),
    }
}

fn pattern(name: &Ident, v: &VariantSpec) -> TokenStream2 {
    let ident = &v.ident;
    let bindings = v.fields.iter().map(|f| &f.binding);
    match &v.style {
        Fields::Named(_) => quote!(#name::#ident { #(#bindings),* }),
        Fields::Unnamed(_) => quote!(#name::#ident ( #(#bindings),* )),
        Fields::Unit => quote!(#name::#ident),
    }
}

fn expand_enum(
    name: &Ident,
    type_name: &str,
    variants: &[VariantSpec],
    kind: Kind,
    impl_generics: &syn::ImplGenerics<'_>,
    ty_generics: &syn::TypeGenerics<'_>,
    where_clause: Option<&syn::WhereClause>,
) -> TokenStream2 {
    match kind {
        Kind::Encode => {
            let arms = variants.iter().map(|v| {
                let pat = pattern(name, v);
                let index = v.index;
                let writes = v.fields.iter().map(|f| {
                    let binding = &f.binding;
                    encode_field(&quote!(*#binding), f)
                });
                quote!(#pat => {
                    ::orrery_codec::natural::encode_to(#index, __out);
                    #(#writes)*
                })
            });
            quote! {
                impl #impl_generics ::orrery_codec::Encode for #name #ty_generics #where_clause {
                    #[allow(unused_variables)]
                    fn encode_to(&self, __out: &mut ::std::vec::Vec<u8>) {
                        match self { #(#arms)* }
                    }
                }
            }
        }
        Kind::Decode => {
            let arms = variants.iter().map(|v| {
                let ident = &v.ident;
                let index = v.index;
                let reads = v.fields.iter().map(|f| decode_field(type_name, f));
                let build = match &v.style {
                    Fields::Named(_) => {
                        let members = v.fields.iter().map(|f| &f.member);
                        quote!(#name::#ident { #(#members: #reads),* })
                    }
                    Fields::Unnamed(_) => quote!(#name::#ident ( #(#reads),* )),
                    Fields::Unit => quote!(#name::#ident),
                };
                quote!(#index => #build,)
            });
            quote! {
                impl #impl_generics ::orrery_codec::Decode for #name #ty_generics #where_clause {
                    fn decode(__d: &mut ::orrery_codec::Decoder<'_>)
                        -> ::core::result::Result<Self, ::orrery_codec::Error>
                    {
                        ::core::result::Result::Ok(match __d.natural()? {
                            #(#arms)*
                            __value => return ::core::result::Result::Err(
                                ::orrery_codec::Error::InvalidDiscriminator {
                                    type_name: #type_name,
                                    value: __value,
                                },
                            ),
                        })
                    }
                }
            }
        }
        Kind::Describe => {
            let arms = variants.iter().map(|v| {
                let pat = pattern(name, v);
                let variant_name = &v.name;
                let accessors: Vec<_> = v
                    .fields
                    .iter()
                    .map(|f| {
                        let binding = &f.binding;
                        quote!(*#binding)
                    })
                    .collect();
                let inner = describe_fields(&v.style, &v.fields, &accessors);
                quote!(#pat => ::orrery_codec::Value::variant(#variant_name, #inner),)
            });
            quote! {
                impl #impl_generics ::orrery_codec::Describe for #name #ty_generics #where_clause {
                    fn describe(&self) -> ::orrery_codec::Value {
                        match self { #(#arms)* }
                    }
                }
            }
        }
    }
}
