//! A structural reading of template.yaml, enough for its IAM statements and parameter defaults.
//!
//! No YAML crate: none in the workspace accepts CloudFormation's `!Ref`/`!Sub`/`!If` tags without
//! extra work, and the template's block style is regular. The reader is strict instead: a shape it
//! does not know (a statement key whose value is neither a scalar nor a list of scalars, `NotAction`,
//! managed policies, IAM resources) is reported, so a change it cannot judge fails loudly.

/// The template as text.
pub fn text() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One IAM policy statement, with its values as written (tags included, quotes removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The logical id of the resource the statement is in.
    pub resource: String,
    /// The template condition of the `!If` the statement is in, if any.
    pub condition: Option<String>,
    pub sid: String,
    pub effect: String,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

fn lines(template: &str) -> Vec<Line<'_>> {
    template
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| Line {
            number: i + 1,
            indent: l.len() - l.trim_start().len(),
            text: l.trim(),
        })
        .collect()
}

fn unquote(value: &str) -> String {
    let value = value.split(" #").next().unwrap_or(value).trim();
    value.trim_matches('"').trim_matches('\'').to_owned()
}

/// `[a, b]` or a single scalar.
fn scalars(value: &str) -> Vec<String> {
    match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(list) => list.split(',').map(unquote).collect(),
        None => vec![unquote(value)],
    }
}

/// Every policy statement in the template, or the lines it could not read.
pub fn statements(template: &str) -> Result<Vec<Statement>, Vec<String>> {
    let lines = lines(template);
    let mut problems = Vec::new();
    let mut found = Vec::new();
    let mut resource = String::new();
    let mut in_resources = false;
    // Open `!If` blocks: (indent of the `- !If` line, condition name).
    let mut conditions: Vec<(usize, String)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if line.indent == 0 {
            in_resources = line.text == "Resources:";
        } else if in_resources && line.indent == 2 {
            resource = line.text.trim_end_matches(':').to_owned();
        }
        conditions.retain(|(indent, _)| line.indent > *indent);
        if line.text == "- !If" {
            let name = lines
                .get(i + 1)
                .and_then(|l| l.text.strip_prefix("- "))
                .unwrap_or("?");
            conditions.push((line.indent, name.to_owned()));
        }
        for word in [
            "NotAction",
            "NotResource",
            "ManagedPolicyArns",
            "AWS::IAM::",
        ] {
            if line.text.contains(word) {
                problems.push(format!("line {}: {word} is not checked", line.number));
            }
        }
        let key = line.text.trim_start_matches("- ");
        if key != "Statement:" {
            i += 1;
            continue;
        }
        // Statement items: `- Key: value` lines at one column, at or right of the `Statement` key.
        let key_column = line.indent + if line.text.starts_with("- ") { 2 } else { 0 };
        let number = line.number;
        i += 1;
        let item_indent = lines.get(i).map_or(0, |l| l.indent);
        let before = found.len();
        while item_indent >= key_column
            && i < lines.len()
            && lines[i].indent == item_indent
            && lines[i].text.starts_with("- ")
        {
            let (statement, next) =
                statement_item(&lines, i, &resource, &conditions, &mut problems);
            found.extend(statement);
            i = next;
        }
        if found.len() == before {
            problems.push(format!("line {number}: no statement read"));
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(problems)
    }
}

/// Reads the statement item starting at `start` (a `- Key: value` line); returns it and the index
/// of the first line after it.
fn statement_item(
    lines: &[Line<'_>],
    start: usize,
    resource: &str,
    conditions: &[(usize, String)],
    problems: &mut Vec<String>,
) -> (Option<Statement>, usize) {
    let item_indent = lines[start].indent;
    let key_indent = item_indent + 2;
    let mut statement = Statement {
        resource: resource.to_owned(),
        condition: conditions.last().map(|(_, c)| c.clone()),
        sid: String::new(),
        effect: String::new(),
        actions: Vec::new(),
        resources: Vec::new(),
    };
    let mut i = start;
    while i < lines.len() {
        let l = &lines[i];
        let text = if i == start {
            &l.text[2..]
        } else if l.indent == key_indent {
            l.text
        } else {
            break;
        };
        let (key, value) = text.split_once(':').unwrap_or((text, ""));
        let value = value.trim();
        i += 1;
        // A block value: the deeper lines that follow.
        let mut block = Vec::new();
        while i < lines.len() && lines[i].indent > key_indent {
            block.push(&lines[i]);
            i += 1;
        }
        let values = if value.is_empty() {
            if block.iter().all(|b| b.text.starts_with("- ")) {
                block.iter().map(|b| unquote(&b.text[2..])).collect()
            } else {
                Vec::new()
            }
        } else {
            scalars(value)
        };
        match key {
            "Sid" => statement.sid = values.concat(),
            "Effect" => statement.effect = values.concat(),
            "Action" => statement.actions = values,
            "Resource" => statement.resources = values,
            "Principal" | "Condition" => {}
            other => problems.push(format!(
                "line {}: statement key {other} is not checked",
                l.number
            )),
        }
    }
    if statement.actions.is_empty() || statement.resources.is_empty() || statement.sid.is_empty() {
        problems.push(format!(
            "line {}: a statement without Sid, Action or Resource as scalars or lists",
            lines[start].number
        ));
        return (None, i);
    }
    (Some(statement), i)
}

/// The `Default:` of a template parameter.
pub fn parameter_default(template: &str, name: &str) -> String {
    let lines = lines(template);
    let at = lines
        .iter()
        .position(|l| l.indent == 2 && l.text == format!("{name}:"))
        .unwrap_or_else(|| panic!("parameter {name} not in the template"));
    lines[at + 1..]
        .iter()
        .take_while(|l| l.indent > 2)
        .find_map(|l| l.text.strip_prefix("Default:"))
        .map(unquote)
        .unwrap_or_else(|| panic!("parameter {name} has no default"))
}

/// The entries of a function's `Policies:` list as written (`Statement:`, `!If`, or anything else).
pub fn policy_entries(template: &str, function: &str) -> Vec<String> {
    let lines = lines(template);
    let start = lines
        .iter()
        .position(|l| l.indent == 2 && l.text == format!("{function}:"))
        .unwrap_or_else(|| panic!("resource {function} not in the template"));
    let body: Vec<&Line<'_>> = lines[start + 1..]
        .iter()
        .take_while(|l| l.indent > 2)
        .collect();
    let Some(at) = body.iter().position(|l| l.text == "Policies:") else {
        return Vec::new();
    };
    let indent = body[at].indent;
    let items: Vec<&&Line<'_>> = body[at + 1..]
        .iter()
        .take_while(|l| l.indent > indent || (l.indent == indent && l.text.starts_with("- ")))
        .collect();
    let item_indent = items.first().map_or(indent, |l| l.indent);
    items
        .iter()
        .filter(|l| l.indent == item_indent)
        .map(|l| l.text.trim_start_matches("- ").to_owned())
        .collect()
}
