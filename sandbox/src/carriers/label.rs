//! Label documents the sandbox carriers "print": a one-page PDF or a ZPL
//! program, each carrying the tracking number, small and valid.

/// A 4×6 in PDF label with the carrier, service, addressee and tracking number.
pub fn pdf(carrier: &str, service: &str, to: &str, tracking: &str) -> Vec<u8> {
    let escape = |s: &str| {
        s.chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .map(|c| match c {
                '(' | ')' | '\\' => format!("\\{c}"),
                c => c.to_string(),
            })
            .collect::<String>()
    };
    let content = format!(
        "BT /F1 14 Tf 24 380 Td ({}) Tj 0 -22 Td ({}) Tj 0 -22 Td (SHIP TO: {}) Tj /F1 18 Tf 0 -40 Td (TRACKING {}) Tj ET",
        escape(carrier),
        escape(service),
        escape(to),
        escape(tracking)
    );
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A ZPL II label program for a 4×6 in thermal printer.
pub fn zpl(carrier: &str, service: &str, to: &str, tracking: &str) -> Vec<u8> {
    let clean = |s: &str| s.replace(['^', '~'], " ");
    format!(
        "^XA\n^CI28\n^FO40,40^A0N,40,40^FD{}^FS\n^FO40,90^A0N,30,30^FD{}^FS\n^FO40,150^A0N,30,30^FDSHIP TO: {}^FS\n^FO40,240^BY3^BCN,160,Y,N,N^FD{}^FS\n^XZ\n",
        clean(carrier),
        clean(service),
        clean(to),
        clean(tracking)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_has_a_valid_trailer_and_the_tracking_number() {
        let doc = pdf(
            "USPS",
            "Priority",
            "Aiko Tanaka (Osaka)",
            "9400100000000000000001",
        );
        let text = String::from_utf8(doc.clone()).unwrap();
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.contains("TRACKING 9400100000000000000001"));
        let start: usize = text
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            text[start..].starts_with("xref"),
            "startxref points at the xref table"
        );
    }

    #[test]
    fn zpl_is_one_label() {
        let doc = String::from_utf8(zpl("USPS", "Express", "x^y", "EZ1")).unwrap();
        assert!(doc.starts_with("^XA") && doc.trim_end().ends_with("^XZ"));
        assert!(doc.contains("^FDEZ1^FS") && doc.contains("x y"));
    }
}
