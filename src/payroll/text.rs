//! Text folding for matching headers and title lines: case and accents ignored.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lower case, accents removed, every run of white space (also non-breaking) collapsed to one space,
/// trimmed. Punctuation is kept: `Salarié(s) de 44A567` → `salarie(s) de 44a567`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            for l in c.to_lowercase() {
                out.push(l);
            }
        }
    };
    if text.is_ascii() {
        // Fast path: bytes, no Unicode case tables.
        let mut space = false;
        for &b in text.as_bytes() {
            if b.is_ascii_whitespace() {
                space = !out.is_empty();
            } else {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.push(b.to_ascii_lowercase() as char);
            }
        }
        return out;
    } else {
        for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
            match c {
                'œ' | 'Œ' => {
                    push('o', &mut out);
                    push('e', &mut out);
                }
                _ => push(c, &mut out),
            }
        }
    }
    out
}

/// A header key: [`fold`], then every character that is not a letter or digit becomes a space (runs
/// collapsed): `TX SAL.` → `tx sal`, `Nb. salarié(s)` → `nb salarie s`, `N°` → `n`.
pub fn header_key(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len());
    let mut pending_space = false;
    for c in folded.chars() {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else {
            pending_space = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_accents_and_spacing() {
        assert_eq!(
            fold("  Période  de\u{a0}01/01/2024 "),
            "periode de 01/01/2024"
        );
        assert_eq!(fold("Salarié(s) de 44A567"), "salarie(s) de 44a567");
        assert_eq!(header_key("TX SAL."), "tx sal");
        assert_eq!(header_key("RÉMUNÉRATION"), "remuneration");
        assert_eq!(header_key("Nb salarié"), "nb salarie");
    }
}
