//! Option anchors as the NixOS manual makes them, so that links written for
//! it (`#opt-services.getty.enable`) keep working here.

/// `opt-<name>` with `* < > [ ] : " space` replaced by `_`.
pub fn option_id(name: &str) -> String {
    let mut id = String::with_capacity(name.len() + 4);
    id.push_str("opt-");
    id.extend(name.chars().map(|c| match c {
        '*' | '<' | '>' | '[' | ']' | ':' | '"' | ' ' => '_',
        c => c,
    }));
    id
}

#[cfg(test)]
mod tests {
    use super::option_id;

    #[test]
    fn nixos_render_docs_rules() {
        assert_eq!(
            option_id("services.getty.enable"),
            "opt-services.getty.enable"
        );
        assert_eq!(option_id("users.<name>.uid"), "opt-users._name_.uid");
        assert_eq!(
            option_id("networking.interfaces.*.name"),
            "opt-networking.interfaces._.name"
        );
        assert_eq!(
            option_id("boot.kernel.sysctl.\"vm.swappiness\""),
            "opt-boot.kernel.sysctl._vm.swappiness_"
        );
        assert_eq!(option_id("a.\"b c:[d]\""), "opt-a._b_c__d__");
    }
}
