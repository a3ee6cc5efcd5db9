//! Ruby backtraces, newest first: `app/models/user.rb:10:in 'save': message (NoMethodError)`
//! then `\tfrom app/controllers/users_controller.rb:5:in 'create'` lines. Ruby ≥ 3.4 quotes
//! with `'User#save'`, older versions with `` `save' ``. Rails logs print the header as
//! `NoMethodError (message):` above bare frame lines.

use super::common::{finish, frame, header_above, parse_num, push_line, some, type_and_message};
use super::ParsedTrace;
use crate::event::Frame;

/// Parses the first block of frame lines and the header on or above the first.
pub(super) fn parse(lines: &[&str]) -> ParsedTrace {
    let Some(first) = lines.iter().position(|l| parse_frame(l).is_some()) else {
        return ParsedTrace::default();
    };
    let mut frames: Vec<Frame> = Vec::new();
    let mut header: Option<(Option<String>, String)> = None;
    for line in &lines[first..] {
        match parse_frame(line) {
            Some((f, tail)) => {
                if frames.is_empty() {
                    header = tail.map(|t| split_tail(t.trim()));
                }
                if frames.len() >= super::MAX_FRAMES {
                    break;
                }
                frames.push(f);
            }
            // The message's second and later lines come before the first `from`.
            None => match &mut header {
                Some((_, message)) if frames.len() == 1 && !line.trim().is_empty() => {
                    push_line(message, line)
                }
                _ => break,
            },
        }
    }
    let (error_type, error_message) = match header {
        Some((ty, message)) => (ty, some(&message)),
        None => rails_header(lines, first),
    };
    ParsedTrace {
        frames: finish(frames, true),
        error_type,
        error_message,
    }
}

/// `message (Type)` → type and message.
fn split_tail(tail: &str) -> (Option<String>, String) {
    if let Some((message, ty)) = tail.strip_suffix(')').and_then(|t| t.rsplit_once(" (")) {
        if type_and_message(ty).is_some_and(|(_, m)| m.is_none()) {
            return (Some(ty.to_string()), message.to_string());
        }
    }
    (None, tail.to_string())
}

/// Rails: `NoMethodError (undefined method 'name' for nil):` above the frames; or `Type: message`.
fn rails_header(lines: &[&str], first: usize) -> (Option<String>, Option<String>) {
    let above = lines[..first]
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or("", |l| l.trim());
    if let Some((ty, message)) = above.strip_suffix("):").and_then(|t| t.split_once(" (")) {
        if type_and_message(ty).is_some_and(|(_, m)| m.is_none()) {
            return (Some(ty.to_string()), some(message));
        }
    }
    header_above(lines, first)
}

/// A frame line, and what follows its closing quote (`: message (Type)` on the first line).
fn parse_frame(line: &str) -> Option<(Frame, Option<&str>)> {
    let t = line.trim();
    let t = t.strip_prefix("from ").unwrap_or(t);
    let (path_line, after) = t.split_once(":in ")?;
    let (path, num) = path_line.rsplit_once(':')?;
    let line_no = parse_num(num)?;
    if path.is_empty() || (path.contains(' ') && !path.contains('/')) {
        return None;
    }
    let quoted = after.strip_prefix(['`', '\''])?;
    // The closing `'` is the one followed by the end of the line or by `:`.
    let close = quoted.match_indices('\'').map(|(i, _)| i).find(|&i| {
        let next = quoted.get(i + 1..).unwrap_or_default();
        next.is_empty() || next.starts_with(':')
    })?;
    let function = &quoted[..close];
    let tail = quoted
        .get(close + 1..)
        .unwrap_or_default()
        .strip_prefix(':');
    Some((frame(Some(path), Some(function), Some(line_no), None), tail))
}

#[cfg(test)]
mod tests {
    use crate::stack::tests::check;

    #[test]
    fn ruby_34_quotes() {
        let text = "app/models/user.rb:10:in 'User#save': undefined method 'name' for nil (NoMethodError)\n\
\tfrom app/controllers/users_controller.rb:5:in 'block in UsersController#create'\n\
\tfrom /usr/local/bundle/gems/actionpack-7.1.0/lib/action_controller/metal.rb:6:in 'send_action'\n";
        check(
            text,
            Some("NoMethodError"),
            Some("undefined method 'name' for nil"),
            &[
                (
                    Some("/usr/local/bundle/gems/actionpack-7.1.0/lib/action_controller/metal.rb"),
                    Some("send_action"),
                    Some(6),
                    None,
                ),
                (
                    Some("app/controllers/users_controller.rb"),
                    Some("block in UsersController#create"),
                    Some(5),
                    None,
                ),
                (
                    Some("app/models/user.rb"),
                    Some("User#save"),
                    Some(10),
                    None,
                ),
            ],
        );
    }

    #[test]
    fn backtick_quotes_and_multiline_message() {
        let text =
            "/app/app/models/order.rb:22:in `total': order 42 is empty (Order::EmptyError)\n\
second line\n\tfrom /app/app/models/order.rb:30:in `<class:Order>'\n\tfrom -e:1:in `<main>'\n";
        check(
            text,
            Some("Order::EmptyError"),
            Some("order 42 is empty\nsecond line"),
            &[
                (Some("-e"), Some("<main>"), Some(1), None),
                (
                    Some("/app/app/models/order.rb"),
                    Some("<class:Order>"),
                    Some(30),
                    None,
                ),
                (
                    Some("/app/app/models/order.rb"),
                    Some("total"),
                    Some(22),
                    None,
                ),
            ],
        );
    }

    #[test]
    fn rails_log() {
        let text = "NoMethodError (undefined method `name' for nil:NilClass):\n\n\
app/models/user.rb:10:in `save'\napp/controllers/users_controller.rb:5:in `create'\n";
        check(
            text,
            Some("NoMethodError"),
            Some("undefined method `name' for nil:NilClass"),
            &[
                (
                    Some("app/controllers/users_controller.rb"),
                    Some("create"),
                    Some(5),
                    None,
                ),
                (Some("app/models/user.rb"), Some("save"), Some(10), None),
            ],
        );
    }
}
