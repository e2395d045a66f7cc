//! Contrôles (flags), Revue (review decisions and objective attainment) and Pièces justificatives
//! (documents and checklist): what controllers decided and what is on file.

use super::{decimal_cell, heading, Anchors};
use crate::template::layout;
use crate::template::model::{AttainmentStatus, TemplateModel};

/// Last column of the merged explanation cell of the Revue's attainment table (E:H).
const EXPLANATION_LAST_COL: u16 = 7;
use crate::template::plan::{abs, sheet_ref, SheetPlan, Style};

pub(super) fn controls_sheet(model: &TemplateModel) -> SheetPlan {
    let mut s = SheetPlan::new(layout::CONTROLES);
    heading(&mut s, model, "Contrôles – signalements (non bloquants)");
    let headers = [
        "Code",
        "Message",
        "Ligne concernée",
        "Valeurs",
        "Visibilité",
    ];
    for (c, h) in headers.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    for (c, w) in [30.0, 60.0, 16.0, 40.0, 22.0].iter().enumerate() {
        s.column(c as u16, *w);
    }
    let visible = model
        .flags
        .iter()
        .filter(|f| !f.controller_only || model.viewer.sees_controller_only_flags());
    for (i, f) in visible.enumerate() {
        let r = layout::FIRST_DATA_ROW + i as u32;
        s.text(r, 0, f.code.as_str(), Style::Text);
        s.text(r, 1, f.message_fr.as_str(), Style::TextWrap);
        s.text(r, 2, f.line_id.clone().unwrap_or_default(), Style::Text);
        s.text(r, 3, f.values.as_str(), Style::TextWrap);
        let who = if f.controller_only {
            "Contrôleurs uniquement"
        } else {
            "Tous"
        };
        s.text(r, 4, who, Style::Text);
    }
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s
}

pub(super) fn review_sheet(model: &TemplateModel, anchors: &mut Anchors) -> SheetPlan {
    let mut s = SheetPlan::new(layout::REVUE);
    heading(&mut s, model, "Revue – décisions et atteinte des objectifs");
    let headers = [
        "Ligne",
        "Intitulé",
        "Décision",
        "Montant retenu (€)",
        "Motif",
        "Commentaire",
        "Contrôleur",
        "Date",
    ];
    for (c, h) in headers.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    for (c, w) in [14.0, 40.0, 22.0, 16.0, 24.0, 50.0, 20.0, 13.0]
        .iter()
        .enumerate()
    {
        s.column(c as u16, *w);
    }
    let mut r = layout::FIRST_DATA_ROW;
    for d in &model.reviews {
        s.text(r, 0, d.line_id.as_str(), Style::Text);
        s.text(r, 1, d.line_label.as_str(), Style::TextWrap);
        s.text(r, 2, d.decision.as_str(), Style::TextWrap);
        match d.retained {
            Some(m) => s.number(r, 3, m.to_cell_f64(), Style::Money),
            None => s.blank(r, 3, Style::Money),
        }
        s.text(r, 4, d.reason.as_str(), Style::TextWrap);
        s.text(r, 5, d.comment.as_str(), Style::TextWrap);
        s.text(r, 6, d.reviewer.as_str(), Style::Text);
        s.date(r, 7, d.decided_on, Style::Date);
        r += 1;
    }
    r += 1;
    s.text(r, 0, "Atteinte des objectifs", Style::Title);
    r += 1;
    for (c, h) in ["Objectif", "Statut", "Couverture", "Décote", "Explication"]
        .iter()
        .enumerate()
    {
        s.text(r, c as u16, *h, Style::Header);
    }
    // The explanation spans the last four columns (up to 1 800 characters of the evaluator's
    // sentences): merged, wrapped, its row as tall as the text.
    s.merge(r, 4, r, EXPLANATION_LAST_COL);
    let afirst = r + 1;
    let not_computable = model.summary.subsidy.is_err();
    for (i, a) in model.attainment.iter().enumerate() {
        let r = afirst + i as u32;
        s.text(r, 0, a.objective.as_str(), Style::Text);
        s.text(r, 1, a.status.label_fr(), Style::Text);
        match a.coverage {
            Some(p) => s.number(r, 2, decimal_cell(p.fraction()), Style::Percent),
            None => s.blank(r, 2, Style::Percent),
        }
        if not_computable && a.status == AttainmentStatus::NotAttained {
            // No décote can be applied (e.g. no published schedule): no figure that a sum would
            // read as 0 %.
            s.text(r, 3, super::NOT_COMPUTABLE, Style::TextWrap);
        } else {
            s.number(r, 3, decimal_cell(a.decote.fraction()), Style::Percent);
        }
        s.text(r, 4, a.explanation.as_str(), Style::TextWrap);
        s.merge(r, 4, r, EXPLANATION_LAST_COL);
    }
    let alast = afirst + (model.attainment.len() as u32).max(1) - 1;
    s.repeat_rows = Some((0, layout::HEADER_ROW));
    anchors.decote_range = format!(
        "{}!{}:{}",
        sheet_ref(layout::REVUE),
        abs(afirst, 3),
        abs(alast, 3)
    );
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s
}

/// Supporting documents attached (superseded ones included, marked) and the checklist of what each
/// objective and line expects. Read-only: documents are attached through the service, not the workbook.
pub(super) fn documents_sheet(model: &TemplateModel) -> SheetPlan {
    let mut s = SheetPlan::new(layout::PIECES);
    heading(
        &mut s,
        model,
        "Pièces justificatives – jointes et attendues",
    );
    let headers = [
        "Pièce",
        "Type",
        "Fichier",
        "Justifie",
        "Jointe le",
        "Par",
        "Taille (octets)",
        "Empreinte SHA-256",
        "Remplacée par",
    ];
    for (c, h) in headers.iter().enumerate() {
        s.text(layout::HEADER_ROW, c as u16, *h, Style::Header);
    }
    for (c, w) in [11.0, 40.0, 36.0, 18.0, 12.0, 16.0, 14.0, 30.0, 14.0]
        .iter()
        .enumerate()
    {
        s.column(c as u16, *w);
    }
    let mut r = layout::FIRST_DATA_ROW;
    for d in &model.documents {
        s.text(r, 0, d.document_id.as_str(), Style::Text);
        s.text(r, 1, d.kind.as_str(), Style::Text);
        s.text(r, 2, d.file_name.as_str(), Style::Text);
        s.text(r, 3, d.target.as_str(), Style::Text);
        s.date(r, 4, d.attached_on, Style::Date);
        s.text(r, 5, d.attached_by.as_str(), Style::Text);
        s.number(r, 6, d.size_bytes as f64, Style::Integer);
        s.text(r, 7, d.sha256.as_str(), Style::Text);
        s.text(
            r,
            8,
            d.superseded_by.clone().unwrap_or_default(),
            Style::Text,
        );
        r += 1;
    }
    if model.documents.is_empty() {
        s.text(r, 0, "Aucune pièce jointe", Style::Text);
        r += 1;
    }
    r += 1;
    s.text(r, 0, "Liste de contrôle des pièces attendues", Style::Title);
    r += 1;
    for (c, h) in ["Objectif ou ligne", "Pièce attendue", "Obligatoire", "État"]
        .iter()
        .enumerate()
    {
        s.text(r, c as u16, *h, Style::Header);
    }
    r += 1;
    for row in &model.checklist {
        s.text(r, 0, row.target.as_str(), Style::Text);
        s.text(r, 1, row.expected.as_str(), Style::Text);
        s.text(r, 2, if row.required { "oui" } else { "non" }, Style::Text);
        s.text(r, 3, row.state.as_str(), Style::Text);
        r += 1;
    }
    s.freeze = Some((layout::FIRST_DATA_ROW, 0));
    s
}
