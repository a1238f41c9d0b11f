//! What a platform value names: `"x86_64-linux"`, or a set's `config` or
//! `system` (nixpkgs reads `config` first), for the unknown-platform
//! check and for a system's facts alike.

use crate::analysis::lower::{Key, Literal, Module, Node, NodeId};

/// The literal system name a platform value gives, with its node and the
/// set's field (`config` before `system`, as nixpkgs reads them).
pub fn platform_name(
    module: &Module,
    value: NodeId,
) -> Option<(NodeId, Option<&'static str>, String)> {
    let literal = |node: NodeId| match module.nodes.get(node.0 as usize)? {
        Node::Literal(Literal::Str(s)) => Some(s.clone()),
        _ => None,
    };
    match module.nodes.get(value.0 as usize)? {
        Node::Literal(Literal::Str(s)) => Some((value, None, s.clone())),
        Node::Attrs(entries) => {
            let field = |name: &str| {
                entries
                    .iter()
                    .find(|e| matches!(&e.key, Key::Name(n) if n == name))
                    .map(|e| unwrap(module, e.value))
            };
            for name in ["config", "system"] {
                if let Some(node) = field(name) {
                    return literal(node).map(|s| (node, Some(name), s));
                }
            }
            None
        }
        _ => None,
    }
}

/// Through `mkDefault` and the like (a few deep at most; bounded).
pub fn unwrap(module: &Module, mut node: NodeId) -> NodeId {
    for _ in 0..16 {
        match module.nodes.get(node.0 as usize) {
            Some(Node::Wrapped(inner)) => node = *inner,
            _ => break,
        }
    }
    node
}
