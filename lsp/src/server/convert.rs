//! Analysis results as LSP types.

use std::sync::Arc;

use tower_lsp_server::ls_types as lsp;

use super::line_index::LineIndex;
use crate::ide;

pub fn diagnostic(d: &ide::Diagnostic, index: &LineIndex, uri: &lsp::Uri) -> lsp::Diagnostic {
    let range = index.range(d.range);
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    lsp::Diagnostic {
        range,
        severity: Some(match d.severity {
            ide::Severity::Error => lsp::DiagnosticSeverity::ERROR,
            ide::Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.as_str().into())),
        source: Some("micros".into()),
        message,
        tags: (d.code == crate::analysis::resolve::Code::UnusedBinding)
            .then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        related_information: {
            let mut related: Vec<lsp::DiagnosticRelatedInformation> = d
                .fix
                .iter()
                .map(|fix| lsp::DiagnosticRelatedInformation {
                    location: lsp::Location {
                        uri: uri.clone(),
                        range: index.range(fix.range),
                    },
                    message: fix.title.clone(),
                })
                .collect();
            related.extend(d.related.iter().filter_map(related_information));
            (!related.is_empty()).then_some(related)
        },
        ..Default::default()
    }
}

/// Another place a finding involves, in whatever file it is.
fn related_information(
    related: &crate::analysis::systems::Related,
) -> Option<lsp::DiagnosticRelatedInformation> {
    Some(lsp::DiagnosticRelatedInformation {
        location: related_location(related)?,
        message: related.message.clone(),
    })
}

/// The place itself: its positions are already in UTF-16.
fn related_location(related: &crate::analysis::systems::Related) -> Option<lsp::Location> {
    let position = |p: crate::analysis::systems::TextPosition| lsp::Position {
        line: p.line,
        character: p.utf16,
    };
    Some(lsp::Location {
        uri: lsp::Uri::from_file_path(&related.path)?,
        range: lsp::Range {
            start: position(related.start),
            end: position(related.end),
        },
    })
}

pub fn inlay_hint(hint: &ide::inlay_hints::InlayHint, index: &LineIndex) -> lsp::InlayHint {
    let label = if hint.label.iter().all(|p| p.target.is_none()) {
        lsp::InlayHintLabel::String(hint.label_text())
    } else {
        lsp::InlayHintLabel::LabelParts(
            hint.label
                .iter()
                .map(|part| lsp::InlayHintLabelPart {
                    value: part.text.clone(),
                    location: part.target.as_ref().and_then(related_location),
                    ..Default::default()
                })
                .collect(),
        )
    };
    lsp::InlayHint {
        position: index.position(hint.offset),
        label,
        kind: None,
        text_edits: None,
        tooltip: hint.tooltip.clone().map(lsp::InlayHintTooltip::String),
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

pub fn completion_item(
    item: &ide::completion::CompletionItem,
    index: &LineIndex,
) -> lsp::CompletionItem {
    use ide::completion::CompletionKind;
    lsp::CompletionItem {
        label: item.label.clone(),
        kind: Some(match item.kind {
            CompletionKind::Option => lsp::CompletionItemKind::PROPERTY,
            CompletionKind::Namespace => lsp::CompletionItemKind::MODULE,
            CompletionKind::Value => lsp::CompletionItemKind::ENUM_MEMBER,
            CompletionKind::Variable => lsp::CompletionItemKind::VARIABLE,
            CompletionKind::File => lsp::CompletionItemKind::FILE,
            CompletionKind::Folder => lsp::CompletionItemKind::FOLDER,
            CompletionKind::Package => lsp::CompletionItemKind::MODULE,
        }),
        detail: item.detail.clone(),
        documentation: item.documentation.as_ref().map(|d| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: d.clone(),
            })
        }),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
            range: index.range(item.range),
            new_text: item.insert.clone(),
        })),
        sort_text: item.order.map(|order| format!("{order:05}")),
        ..Default::default()
    }
}

/// A declaration's location; files not open are read to place it exactly.
pub fn location(
    target: &ide::goto_definition::Target,
    open: Option<Arc<LineIndex>>,
) -> Option<lsp::Location> {
    let uri = lsp::Uri::from_file_path(&target.path)?;
    let index = open.or_else(|| {
        let text = std::fs::read_to_string(&target.path).ok()?;
        Some(Arc::new(LineIndex::new(&text)))
    });
    let range = match (target.range, index) {
        (Some(range), Some(index)) => index.range(range),
        _ => {
            let line = target.line.saturating_sub(1);
            lsp::Range {
                start: lsp::Position { line, character: 0 },
                end: lsp::Position { line, character: 0 },
            }
        }
    };
    Some(lsp::Location { uri, range })
}

#[allow(deprecated)]
pub fn symbol(symbol: &ide::symbols::Symbol, index: &LineIndex) -> lsp::DocumentSymbol {
    use ide::symbols::SymbolKind;
    lsp::DocumentSymbol {
        name: symbol.name.clone(),
        detail: symbol.detail.clone(),
        kind: match symbol.kind {
            SymbolKind::Option => lsp::SymbolKind::PROPERTY,
            SymbolKind::Namespace => lsp::SymbolKind::NAMESPACE,
            SymbolKind::Name => lsp::SymbolKind::OBJECT,
            SymbolKind::Other => lsp::SymbolKind::FIELD,
            SymbolKind::Binding => lsp::SymbolKind::VARIABLE,
        },
        tags: None,
        deprecated: None,
        range: index.range(symbol.range),
        selection_range: index.range(symbol.selection),
        children: Some(
            symbol
                .children
                .iter()
                .map(|c| self::symbol(c, index))
                .collect(),
        ),
    }
}

pub fn code_action(
    action: &ide::code_actions::CodeAction,
    index: &LineIndex,
    uri: &lsp::Uri,
) -> lsp::CodeActionOrCommand {
    use ide::code_actions::ActionKind;
    let edits = action
        .edits
        .iter()
        .map(|e| lsp::TextEdit {
            range: index.range(e.range),
            new_text: e.replacement.clone(),
        })
        .collect();
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: action.title.clone(),
        kind: Some(match action.kind {
            ActionKind::QuickFix => lsp::CodeActionKind::QUICKFIX,
            ActionKind::RefactorRewrite => lsp::CodeActionKind::REFACTOR_REWRITE,
            ActionKind::RefactorInline => lsp::CodeActionKind::REFACTOR_INLINE,
        }),
        diagnostics: action
            .diagnostic
            .as_ref()
            .map(|d| vec![diagnostic(d, index, uri)]),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some([(uri.clone(), edits)].into_iter().collect()),
            ..Default::default()
        }),
        is_preferred: (action.kind == ActionKind::QuickFix).then_some(true),
        ..Default::default()
    })
}

/// Innermost first in, outermost last: nested through `parent`.
pub fn selection_range(chain: &[rowan::TextRange], index: &LineIndex) -> lsp::SelectionRange {
    let mut outer: Option<Box<lsp::SelectionRange>> = None;
    for range in chain.iter().rev() {
        outer = Some(Box::new(lsp::SelectionRange {
            range: index.range(*range),
            parent: outer,
        }));
    }
    outer.map_or(
        lsp::SelectionRange {
            range: lsp::Range::default(),
            parent: None,
        },
        |b| *b,
    )
}

/// Folds are by lines; a closing `}` or `]` stays visible.
pub fn folding_range(
    fold: &ide::folding_ranges::Fold,
    index: &LineIndex,
) -> Option<lsp::FoldingRange> {
    let start = index.position(fold.range.start()).line;
    let mut end = index.position(fold.range.end()).line;
    if fold.closes {
        end = end.saturating_sub(1);
    }
    (end > start).then(|| lsp::FoldingRange {
        start_line: start,
        end_line: end,
        kind: Some(match fold.kind {
            ide::folding_ranges::FoldKind::Comment => lsp::FoldingRangeKind::Comment,
            ide::folding_ranges::FoldKind::Region => lsp::FoldingRangeKind::Region,
        }),
        ..Default::default()
    })
}
