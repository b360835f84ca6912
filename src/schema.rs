//! Structured output (SPEC §15): a JSON Schema given inline or in `llm`'s concise form
//! (`name, age int, bio: one line about them`), the strict form sent in `response_format`,
//! and local validation of a reply against the keywords we check (`type`, `properties`,
//! `required`, `items`, `enum`, `additionalProperties`, `minimum`/`maximum`,
//! `minItems`/`maxItems`), with the path of each error. Pure.

use serde_json::{Map, Value, json};

/// The schema `text` means: a JSON Schema object, or the concise form, which becomes the
/// schema `llm --schema` makes of it. `multi` asks for `{"items": [ … ]}` of those objects,
/// as `llm --schema-multi` does.
pub fn parse(text: &str, multi: bool) -> Result<Value, String> {
    let trimmed = text.trim();
    let schema = if trimmed.starts_with('{') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(schema @ Value::Object(_)) => schema,
            Ok(_) => return Err("a JSON Schema must be an object".into()),
            Err(error) => {
                return Err(format!(
                    "the schema is not valid JSON at line {}, column {}: {}",
                    error.line(),
                    error.column(),
                    crate::error::json_error_text(&error)
                ));
            }
        }
    } else {
        concise(trimmed)?
    };
    Ok(if multi { wrap_multi(schema) } else { schema })
}

/// `llm`'s concise form: fields separated by newlines (when there is one) or commas, each
/// `name [type][: description]`, type `str` (default), `int`, `float` or `bool`.
fn concise(text: &str) -> Result<Value, String> {
    let fields: Vec<&str> = if text.contains('\n') {
        text.split('\n')
    } else {
        text.split(',')
    }
    .map(str::trim)
    .filter(|field| !field.is_empty())
    .collect();
    if fields.is_empty() {
        return Err("the schema is empty".into());
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        let (info, description) = match field.split_once(':') {
            Some((info, description)) => (info, description.trim()),
            None => (field, ""),
        };
        let mut words = info.split_whitespace();
        let name = words
            .next()
            .ok_or_else(|| format!("field `{field}` has no name before `:`"))?;
        let kind = match words.next() {
            None | Some("str") => "string",
            Some("int") => "integer",
            Some("float") => "number",
            Some("bool") => "boolean",
            Some(other) => {
                return Err(format!(
                    "unknown type `{other}` for field `{name}`: use str, int, float or bool"
                ));
            }
        };
        if properties.contains_key(name) {
            return Err(format!("the field `{name}` is named twice"));
        }
        let mut property = json!({"type": kind});
        if !description.is_empty() {
            property["description"] = Value::from(description);
        }
        properties.insert(name.to_string(), property);
        required.push(Value::from(name));
    }
    Ok(json!({"type": "object", "properties": properties, "required": required}))
}

fn wrap_multi(schema: Value) -> Value {
    json!({
        "type": "object",
        "properties": {"items": {"type": "array", "items": schema}},
        "required": ["items"],
    })
}

/// The schema as strict mode wants it: `"additionalProperties": false` on every object
/// schema that lacks the key.
pub fn strict(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .map(|(key, value)| (key.clone(), strict(value)))
                .collect();
            let is_object = map.get("type").and_then(Value::as_str) == Some("object")
                || map.contains_key("properties");
            if is_object && !out.contains_key("additionalProperties") {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(strict).collect()),
        other => other.clone(),
    }
}

/// The `response_format` of a request for `schema`.
pub fn response_format(schema: &Value) -> Value {
    json!({
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": true, "schema": strict(schema)},
    })
}

/// The JSON document a reply holds (a code fence around it is allowed), and every way it
/// fails `schema`; `Err` lists the errors.
pub fn check(reply: &str, schema: &Value) -> Result<Value, Vec<String>> {
    let text = reply.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|inner| inner.trim_end().strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    let value: Value = serde_json::from_str(text).map_err(|error| {
        vec![format!(
            "the reply is not JSON ({})",
            crate::error::json_error_text(&error)
        )]
    })?;
    let mut errors = Vec::new();
    validate(&value, schema, "$", &mut errors);
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(errors)
    }
}

/// Checks `value` at `path` against `schema`, adding each error found.
pub fn validate(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if let Some(kind) = schema.get("type")
        && !type_matches(value, kind)
    {
        errors.push(format!(
            "{path}: expected {}, got {}",
            type_words(kind),
            kind_of(value)
        ));
        return;
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        errors.push(format!(
            "{path}: {value} is not one of {}",
            Value::Array(allowed.clone())
        ));
    }
    if let Some(number) = value.as_f64() {
        if let Some(minimum) = schema.get("minimum").and_then(Value::as_f64)
            && number < minimum
        {
            errors.push(format!("{path}: {value} is below the minimum {minimum}"));
        }
        if let Some(maximum) = schema.get("maximum").and_then(Value::as_f64)
            && number > maximum
        {
            errors.push(format!("{path}: {value} is above the maximum {maximum}"));
        }
    }
    match value {
        Value::Object(object) => validate_object(object, schema, path, errors),
        Value::Array(items) => {
            let count = items.len() as u64;
            if let Some(least) = schema.get("minItems").and_then(Value::as_u64)
                && count < least
            {
                errors.push(format!("{path}: {count} items, fewer than {least}"));
            }
            if let Some(most) = schema.get("maxItems").and_then(Value::as_u64)
                && count > most
            {
                errors.push(format!("{path}: {count} items, more than {most}"));
            }
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    validate(item, item_schema, &format!("{path}[{index}]"), errors);
                }
            }
        }
        _ => {}
    }
}

fn validate_object(
    object: &Map<String, Value>,
    schema: &Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                errors.push(format!("{path}: `{name}` is required"));
            }
        }
    }
    for (key, item) in object {
        match properties.and_then(|properties| properties.get(key)) {
            Some(property) => validate(item, property, &format!("{path}.{key}"), errors),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    errors.push(format!("{path}: `{key}` is not allowed"));
                }
                Some(extra @ Value::Object(_)) => {
                    validate(item, extra, &format!("{path}.{key}"), errors)
                }
                _ => {}
            },
        }
    }
}

fn type_matches(value: &Value, kind: &Value) -> bool {
    match kind {
        Value::String(kind) => match kind.as_str() {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            _ => true,
        },
        Value::Array(kinds) => kinds.iter().any(|kind| type_matches(value, kind)),
        _ => true,
    }
}

fn type_words(kind: &Value) -> String {
    match kind {
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        other => other.as_str().unwrap_or("?").to_string(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_concise_form_becomes_what_llm_makes_of_it() {
        assert_eq!(
            parse("name, age int, bio: one line about them", false).unwrap(),
            json!({"type": "object", "properties": {
                "name": {"type": "string"}, "age": {"type": "integer"},
                "bio": {"type": "string", "description": "one line about them"}},
                "required": ["name", "age", "bio"]})
        );
        // Newlines separate fields when there are any (commas may then be in descriptions).
        assert_eq!(
            parse("score float: 0, 1 or in between\nok bool", true).unwrap(),
            json!({"type": "object", "properties": {"items": {"type": "array", "items": {
                "type": "object", "properties": {
                    "score": {"type": "number", "description": "0, 1 or in between"},
                    "ok": {"type": "boolean"}},
                "required": ["score", "ok"]}}}, "required": ["items"]})
        );
        for bad in ["name, age integer", "a, a", ": x", "", "{oops"] {
            assert!(parse(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn strict_mode_closes_every_object() {
        let schema = parse("name, tags", true).unwrap();
        let strict = strict(&schema);
        assert_eq!(strict["additionalProperties"], false);
        assert_eq!(
            strict["properties"]["items"]["items"]["additionalProperties"],
            false
        );
        let open = json!({"type": "object", "additionalProperties": true});
        assert_eq!(super::strict(&open)["additionalProperties"], true);
    }

    #[test]
    fn replies_are_validated_with_paths() {
        let schema = json!({"type": "object", "required": ["name", "age"],
            "additionalProperties": false,
            "properties": {"name": {"type": "string"},
                "age": {"type": "integer", "minimum": 0, "maximum": 150},
                "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 2}}});
        assert_eq!(
            check("{\"name\": \"Ann\", \"age\": 30}", &schema).unwrap()["age"],
            30
        );
        assert!(check("```json\n{\"name\": \"Ann\", \"age\": 3}\n```", &schema).is_ok());
        let errors = check(
            "{\"name\": 5, \"age\": 200, \"tags\": [\"a\", \"c\", \"b\"], \"x\": 1}",
            &schema,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "$.age: 200 is above the maximum 150",
                "$.name: expected string, got an integer",
                "$.tags: 3 items, more than 2",
                "$.tags[1]: \"c\" is not one of [\"a\",\"b\"]",
                "$: `x` is not allowed",
            ]
        );
        assert_eq!(check("{}", &schema).unwrap_err().len(), 2);
        assert!(check("not json", &schema).unwrap_err()[0].starts_with("the reply is not JSON"));
    }
}
