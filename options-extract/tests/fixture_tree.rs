//! The extractor against the MicrOS-like fixture tree in `tests/fixtures/`:
//! `micros/` (the base modules, found through `all-modules.nix` and
//! `lib/eval-config.nix`), `nixpkgs/` (the NixOS modules eval-config.nix
//! names), `user/` (a configuration with a module of its own) and `broken/`
//! (modules with mistakes).

use std::path::{Path, PathBuf};

use expect_test::expect;
use micros_options::model::{
    EnumValue, IntKind, IntType, Literal, MigrationKind, OptionDecl, OptionSet, OptionType,
    RootKind, Visibility,
};
use micros_options::sources::{micros_request, nixpkgs_modules};
use micros_options::{
    Diagnostic, ExtractRequest, Extraction, ModuleSource, Root, Severity, extract, json,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn micros_fixture_request() -> ExtractRequest {
    let root = fixtures();
    micros_request(&root.join("micros"), Some(&root.join("nixpkgs")))
        .expect("the fixture eval-config.nix names its nixpkgs modules")
}

fn fixture_extraction() -> Extraction {
    extract(&micros_fixture_request())
}

fn user_extraction(user_root: &Path) -> Extraction {
    let mut request = micros_fixture_request();
    request.roots.push(Root {
        kind: RootKind::User,
        dir: user_root.to_path_buf(),
    });
    request.modules.push(ModuleSource::File(
        fixtures().join("user/configuration.nix"),
    ));
    extract(&request)
}

fn broken_extraction() -> Extraction {
    let dir = fixtures().join("broken");
    extract(&ExtractRequest {
        roots: vec![Root {
            kind: RootKind::User,
            dir: dir.clone(),
        }],
        modules: vec![ModuleSource::File(dir.join("default.nix"))],
        skip_imports: false,
    })
}

/// The option called `name` (as `lib.showOption` prints it) among `options`.
fn find<'a>(options: &'a [OptionDecl], name: &str) -> &'a OptionDecl {
    options
        .iter()
        .find(|o| o.name() == name)
        .unwrap_or_else(|| {
            let names: Vec<String> = options.iter().map(OptionDecl::name).collect();
            panic!("no option `{name}` among {names:#?}")
        })
}

fn names(options: &[OptionDecl]) -> Vec<String> {
    options.iter().map(OptionDecl::name).collect()
}

/// The placeholders and sub-option names of a type with a submodule.
fn sub_options(ty: &OptionType) -> (Vec<&'static str>, Vec<String>) {
    let (prefix, submodule) = ty
        .sub_options()
        .unwrap_or_else(|| panic!("{ty:?} has no sub-options"));
    (prefix, names(&submodule.options))
}

fn expr(text: &str) -> Option<Literal> {
    Some(Literal::expression(text))
}

fn b(ty: OptionType) -> Box<OptionType> {
    Box::new(ty)
}

fn strs(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| s.to_string()).collect()
}

/// One line per option: name, type, shown default, declarations.
fn listing(set: &OptionSet) -> String {
    let mut out = String::new();
    for option in set.flatten() {
        let default = option
            .shown_default()
            .map(|d| d.text.replace('\n', "\\n"))
            .unwrap_or_else(|| "-".into());
        let declarations: Vec<String> = option
            .declarations
            .iter()
            .map(|d| format!("{}:{}", d.file.display_name(), d.line))
            .collect();
        out.push_str(&format!(
            "{} : {} = {} @ {}\n",
            option.name(),
            option.ty.description().replace('\n', "\\n"),
            default,
            declarations.join(", ")
        ));
    }
    out
}

fn assert_no_extractor_failure(diagnostics: &[Diagnostic]) {
    assert!(
        diagnostics
            .iter()
            .all(|d| d.file != Path::new("<extractor>")),
        "the extractor panicked: {diagnostics:#?}"
    );
}

#[test]
fn fixture_option_listing() {
    let extraction = fixture_extraction();
    assert_eq!(extraction.diagnostics, Vec::new());
    expect![[r#"
        assertions : list of unspecified value = [ ] @ <nixpkgs>/nixos/modules/misc/assertions.nix:8
        boot.console.baudRate : positive integer, meaning >0 = 115200 @ micros/modules/system/boot/console.nix:4
        boot.console.devices : non-empty (list of string) = [\n  "tty1"\n] @ micros/modules/system/boot/console.nix:9
        boot.consoleLogLevel : signed integer = 4 @ micros/modules/system/boot/kernel-params.nix:17
        boot.initrd.compressor : string or function that evaluates to a(n) string = "zstd" @ micros/modules/system/boot/initrd/default.nix:7
        boot.initrd.extraFiles : attribute set of (submodule) = { } @ micros/modules/system/boot/initrd/default.nix:14
        boot.initrd.extraFiles.<name>.source : absolute path = - @ micros/modules/system/boot/initrd/default.nix:16
        boot.initrd.kernelModules : list of string = [ ] @ micros/modules/system/boot/initrd/default.nix:25
        boot.isContainer : boolean = false @ micros/modules/system/boot/kernel.nix:26
        boot.kernel.modules : list of string = [ ] @ micros/modules/system/boot/kernel.nix:15
        boot.kernel.package : package = pkgs.linux @ micros/modules/system/boot/kernel.nix:13
        boot.kernel.sysctl : open submodule of attribute set of (sysctl value) = { } @ <nixpkgs>/nixos/modules/config/sysctl.nix:14
        boot.kernel.sysctl."vm.swappiness" : null or integer between 0 and 200 (both inclusive) = null @ <nixpkgs>/nixos/modules/config/sysctl.nix:17
        boot.kernelParams : list of string matching the pattern ([^"[:space:]]|"[^"]*")+ = [ ] @ micros/modules/system/boot/kernel-params.nix:10
        boot.loader.grub : unspecified value = - @ micros/modules/misc/compat.nix:5
        documentation : sink = false @ micros/modules/misc/compat.nix:12
        environment.etc : attribute set of (submodule) = { } @ micros/modules/system/environment.nix:64
        environment.etc.<name>.mode : string = "symlink" @ micros/modules/system/environment.nix:24
        environment.etc.<name>.source : absolute path = - @ micros/modules/system/environment.nix:20
        environment.etc.<name>.target : string = "‹name›" @ micros/modules/system/environment.nix:10
        environment.etc.<name>.text : null or strings concatenated with "\n" = null @ micros/modules/system/environment.nix:15
        environment.packages : list of package = - @ micros/modules/misc/compat.nix:8
        environment.shellAliases : lazy attribute set of (null or string) = { } @ micros/modules/system/environment.nix:58
        environment.systemPackages : list of package = [ ] @ micros/modules/system/environment.nix:35
        environment.variables : attribute set of (string or absolute path or list of string) = { } @ micros/modules/system/environment.nix:42
        fileSystems : attribute set of (submodule) = { } @ micros/modules/system/filesystems.nix:39
        fileSystems.<name>.device : null or string = null @ micros/modules/system/filesystems.nix:14
        fileSystems.<name>.fsType : string = "auto" @ micros/modules/system/filesystems.nix:20
        fileSystems.<name>.mountPoint : string = "‹name›" @ micros/modules/system/filesystems.nix:9
        fileSystems.<name>.neededForBoot : boolean = false @ micros/modules/system/filesystems.nix:30
        fileSystems.<name>.options : non-empty (list of string) = [\n  "defaults"\n] @ micros/modules/system/filesystems.nix:25
        hardware.cpuFrequencyScale : floating point number = 0.5 @ micros/modules/hardware/firmware.nix:35
        hardware.cpuMicrocode : null or package = pkgs.microcode.intel @ micros/modules/hardware/firmware.nix:16
        hardware.displayRotation : one of 0, 90, 180, 270 = 0 @ micros/modules/hardware/firmware.nix:24
        hardware.enableRedistributableFirmware : boolean = false @ micros/modules/hardware/firmware.nix:4
        hardware.firmware : list of package = [ ] @ micros/modules/hardware/firmware.nix:6
        hardware.quirks : list of string = [ ] @ micros/modules/hardware/firmware.nix:41
        hardware.wirelessRegulatoryDatabase : null or package = pkgs.wireless-regdb @ micros/modules/hardware/firmware.nix:12
        micros.services : attribute set of (submodule) = { } @ micros/modules/system/services.nix:3
        micros.services.<name>.dependencies : list of string = [ ] @ micros/modules/system/service-options.nix:25
        micros.services.<name>.enable : boolean = true @ micros/modules/system/service-options.nix:7
        micros.services.<name>.startOnBoot : boolean = false @ micros/modules/system/service-options.nix:37
        micros.services.<name>.startScript : strings concatenated with "\n" = - @ micros/modules/system/service-options.nix:20
        micros.services.<name>.type : one of "longrun", "oneshot" = "longrun" @ micros/modules/system/service-options.nix:11
        micros.services.<name>.user : null or string = null @ micros/modules/system/service-options.nix:31
        networking.domain : null or string = null @ micros/modules/networking/networking.nix:27
        networking.firewall.allowedTCPPorts : list of 16 bit unsigned integer; between 0 and 65535 (both inclusive) = [ ] @ micros/modules/networking/firewall.nix:7
        networking.firewall.allowedUDPPorts : list of 16 bit unsigned integer; between 0 and 65535 (both inclusive) = [ ] @ micros/modules/networking/firewall.nix:13
        networking.firewall.enable : boolean = true @ micros/modules/networking/firewall.nix:23
        networking.firewall.interfaces : attribute set of (submodule) = { } @ micros/modules/networking/firewall.nix:33
        networking.firewall.logRefusedConnections : boolean = true @ micros/modules/networking/firewall.nix:27
        networking.hostName : string matching the pattern ^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$ = "micros" @ micros/modules/networking/networking.nix:21
        networking.interfaces : list of (submodule) = [ ] @ micros/modules/networking/networking.nix:43
        networking.interfaces.*.ipv4.addresses : list of (submodule) = [ ] @ micros/modules/networking/networking.nix:56
        networking.interfaces.*.ipv4.addresses.*.address : string = - @ micros/modules/networking/networking.nix:7
        networking.interfaces.*.ipv4.addresses.*.prefixLength : integer between 0 and 32 (both inclusive) = 24 @ micros/modules/networking/networking.nix:11
        networking.interfaces.*.name : string = - @ micros/modules/networking/networking.nix:46
        networking.interfaces.*.useDHCP : boolean = true @ micros/modules/networking/networking.nix:51
        networking.nameservers : list of string = [ ] @ micros/modules/networking/networking.nix:33
        networking.nftables.enable : boolean = false @ micros/modules/networking/firewall.nix:44
        nix.envVars : attribute set = { } @ micros/modules/nix/nix.nix:61
        nix.evalHook : raw value = - @ micros/modules/nix/nix.nix:68
        nix.extraOptions : strings concatenated with "\n" = "" @ micros/modules/nix/nix.nix:74
        nix.nrBuildUsers : signed integer = 32 @ micros/modules/nix/nix.nix:48
        nix.package : package = pkgs.nix @ micros/modules/nix/nix.nix:20
        nix.registry : attribute set of anything = { } @ micros/modules/nix/nix.nix:55
        nix.settings : open submodule of attribute set of (boolean or signed integer or string or list of string) = { } @ micros/modules/nix/nix.nix:22, micros/modules/nix/substituters.nix:4
        nix.settings.cores : unsigned integer, meaning >=0 = 0 @ micros/modules/nix/nix.nix:31
        nix.settings.max-jobs : positive integer, meaning >0, or value "auto" (singular enum) = "auto" @ micros/modules/nix/nix.nix:26
        nix.settings.substituters : list of string = [\n  "https://cache.nixos.org/"\n] @ micros/modules/nix/substituters.nix:6
        nix.storeDir : Nix store directory = "/nix/store" @ micros/modules/nix/nix.nix:42
        nixpkgs.buildPlatform : string or (attribute set) = { } @ <nixpkgs>/nixos/modules/misc/nixpkgs.nix:14
        nixpkgs.hostPlatform : string or (attribute set) = - @ <nixpkgs>/nixos/modules/misc/nixpkgs.nix:9
        services.getty.autologinUser : null or string = null @ micros/modules/services/getty.nix:24
        services.getty.baudRates : list of (unsigned integer, meaning >=0) = [\n  115200\n  38400\n  9600\n] @ micros/modules/services/getty.nix:33
        services.getty.enable : boolean = false @ micros/modules/services/getty.nix:11
        services.getty.extraArgs : strings concatenated with " " = "" @ micros/modules/services/getty.nix:43
        services.getty.greeting : strings concatenated with "\n" = ''\n  Welcome to MicrOS.\n  Log in as root.\n'' @ micros/modules/services/getty.nix:50
        services.getty.package : package = pkgs.hello @ micros/modules/services/getty.nix:13
        services.getty.ttys : list of string = [\n  "tty1"\n  "tty2"\n] @ micros/modules/services/getty.nix:15
        services.openssh.enable : boolean = - @ micros/modules/misc/compat.nix:4
        services.sshd.banner : null or absolute path = "${cfg.package}/share/banner" @ micros/modules/services/sshd.nix:73
        services.sshd.ciphers : null or strings concatenated with "," = null @ micros/modules/services/sshd.nix:36
        services.sshd.configFile : absolute path = - @ micros/modules/services/sshd.nix:79
        services.sshd.enable : boolean = false @ micros/modules/services/sshd.nix:16
        services.sshd.hostKeys : list of (submodule) = [\n  {\n    path = "/etc/ssh/ssh_host_ed25519_key";\n    type = "ed25519";\n  }\n] @ micros/modules/services/sshd.nix:43
        services.sshd.hostKeys.*.path : string = - @ micros/modules/services/sshd.nix:52
        services.sshd.hostKeys.*.type : one of "rsa", "ed25519" = - @ micros/modules/services/sshd.nix:45
        services.sshd.loginGraceTime : 32 bit signed integer; between -2147483648 and 2147483647 (both inclusive) = 120 @ micros/modules/services/sshd.nix:30
        services.sshd.maxAuthTries : 8 bit unsigned integer; between 0 and 255 (both inclusive) = 6 @ micros/modules/services/sshd.nix:24
        services.sshd.metricsPort : 16 bit unsigned integer; between 0 and 65535 (both inclusive) = 9100 @ micros/modules/services/sshd.nix:22
        services.sshd.moduliFile : absolute path = "${pkgs.openssh}/etc/moduli" @ micros/modules/services/sshd.nix:66
        services.sshd.package : package = pkgs.openssh @ micros/modules/services/sshd.nix:18
        services.sshd.port : 16 bit unsigned integer; between 0 and 65535 (both inclusive) = 22 @ micros/modules/services/sshd.nix:20
        system.activationScripts : attribute set of ((submodule) or string convertible to it) = { } @ micros/modules/system/activation.nix:31
        system.activationScripts.<name>.deps : list of string = [ ] @ micros/modules/system/activation.nix:11
        system.activationScripts.<name>.text : strings concatenated with "\n" = - @ micros/modules/system/activation.nix:7
        system.activationTimeout : signed integer = 90 @ micros/modules/system/activation.nix:50
        system.build : open submodule of lazy attribute set of unspecified value = { } @ <nixpkgs>/nixos/modules/system/build.nix:7, micros/modules/system/build.nix:3
        system.build.image : package = - @ micros/modules/system/build.nix:3
        system.builderCommands : strings concatenated with "\n" = "" @ micros/modules/system/build.nix:9
        system.stage2Hooks : DAG of strings concatenated with "\n" = { } @ micros/modules/system/activation.nix:41
        system.stateVersion : release version (YY.MM) = "25.05" @ micros/modules/system/activation.nix:29
        users : attribute set of (submodule) = { } @ micros/modules/system/users.nix:74, micros/modules/services/sshd.nix:87
        users.<name>.extraGroups : list of string = [ ] @ micros/modules/system/users.nix:47
        users.<name>.gid : 16 bit unsigned integer; between 0 and 65535 (both inclusive) = 1000 @ micros/modules/system/users.nix:29
        users.<name>.home : absolute path = "/home/‹name›" @ micros/modules/system/users.nix:37
        users.<name>.isSystemUser : boolean = false @ micros/modules/system/users.nix:52
        users.<name>.name : string = the attribute name @ micros/modules/system/users.nix:18
        users.<name>.packages : list of package = [ ] @ micros/modules/system/users.nix:65
        users.<name>.password : string = "!" @ micros/modules/system/users.nix:57
        users.<name>.shell : string = "${pkgs.busybox}/bin/sh" @ micros/modules/system/users.nix:42
        users.<name>.sshKeys : list of string = [ ] @ micros/modules/services/sshd.nix:90
        users.<name>.uid : 16 bit unsigned integer; between 0 and 65535 (both inclusive) = 1000 @ micros/modules/system/users.nix:24
        warnings : list of string = [ ] @ <nixpkgs>/nixos/modules/misc/assertions.nix:24
    "#]]
    .assert_eq(&listing(&extraction.options));
}

#[test]
fn eval_config_names_the_nixpkgs_modules() {
    let root = fixtures();
    let nixpkgs = root.join("nixpkgs");
    let modules = nixpkgs_modules(&root.join("micros"), &nixpkgs).unwrap();
    let expected: Vec<PathBuf> = [
        "misc/assertions.nix",
        "config/sysctl.nix",
        "system/build.nix",
        "misc/nixpkgs.nix",
    ]
    .iter()
    .map(|m| PathBuf::from(format!("{}/nixos/modules/{m}", nixpkgs.display())))
    .collect();
    assert_eq!(modules, expected);
}

#[test]
fn imports_are_followed_and_config_only_modules_declare_nothing() {
    let extraction = fixture_extraction();
    let read = |suffix: &str| extraction.files.iter().any(|f| f.path.ends_with(suffix));
    // kernel.nix → kernel-params.nix → console.nix, and kernel.nix → ./initrd.
    assert!(read("micros/modules/system/boot/kernel-params.nix"));
    assert!(read("micros/modules/system/boot/console.nix"));
    assert!(read("micros/modules/system/boot/initrd/default.nix"));
    // A submodule given as a path is read too.
    assert!(read("micros/modules/system/service-options.nix"));
    // The shorthand module is read but declares nothing.
    assert!(read("micros/modules/misc/defaults.nix"));
    let flat = extraction.options.flatten();
    assert!(flat.iter().all(|o| {
        o.declarations
            .iter()
            .all(|d| d.file.path != "micros/modules/misc/defaults.nix")
    }));
    for name in [
        "boot.console.baudRate",
        "boot.initrd.compressor",
        "boot.kernelParams",
    ] {
        find(&flat, name);
    }
    // Every file is read once, however often it is named.
    let mut files: Vec<_> = extraction.files.iter().map(|f| &f.path).collect();
    files.sort();
    files.dedup();
    assert_eq!(files.len(), extraction.files.len());
}

#[test]
fn types_are_structured() {
    use OptionType::*;
    let flat = fixture_extraction().options.flatten();
    let ty = |name: &str| find(&flat, name).ty.clone();
    let positive = Int(IntType {
        min: Some(1),
        max: None,
        kind: IntKind::Positive,
    });
    let unsigned = Int(IntType {
        min: Some(0),
        max: None,
        kind: IntKind::Unsigned,
    });

    assert_eq!(ty("boot.consoleLogLevel"), Int(IntType::signed()));
    assert_eq!(
        ty("networking.interfaces.*.ipv4.addresses.*.prefixLength"),
        Int(IntType::between(0, 32))
    );
    assert_eq!(ty("boot.console.baudRate"), positive.clone());
    assert_eq!(ty("services.getty.baudRates"), ListOf(b(unsigned.clone())));
    assert_eq!(
        ty("services.sshd.maxAuthTries"),
        Int(IntType::unsigned_bits(8))
    );
    assert_eq!(ty("users.<name>.uid"), Int(IntType::unsigned_bits(16)));
    assert_eq!(
        ty("services.sshd.loginGraceTime"),
        Int(IntType::signed_bits(32))
    );
    assert_eq!(ty("services.sshd.port"), OptionType::port());
    assert_eq!(
        ty("networking.firewall.allowedTCPPorts"),
        ListOf(b(OptionType::port()))
    );
    assert_eq!(ty("hardware.cpuFrequencyScale"), Float);
    assert_eq!(ty("networking.interfaces.*.name"), Str);
    assert_eq!(ty("services.getty.greeting"), OptionType::lines());
    assert_eq!(
        ty("services.sshd.ciphers"),
        NullOr(b(SeparatedString(",".into())))
    );
    assert_eq!(ty("services.getty.extraArgs"), SeparatedString(" ".into()));
    assert_eq!(ty("environment.etc.<name>.source"), Path);
    assert_eq!(ty("services.sshd.banner"), NullOr(b(Path)));
    assert_eq!(ty("environment.systemPackages"), ListOf(b(Package)));
    assert_eq!(ty("services.getty.package"), Package);
    assert_eq!(
        ty("hardware.wirelessRegulatoryDatabase"),
        NullOr(b(Package))
    );

    assert_eq!(
        ty("micros.services.<name>.type"),
        Enum(vec![
            EnumValue::Str("longrun".into()),
            EnumValue::Str("oneshot".into())
        ])
    );
    assert_eq!(
        ty("hardware.displayRotation"),
        Enum([0, 90, 180, 270].map(EnumValue::Int).to_vec())
    );
    // `''..''` strings are unescaped; the regex is kept as written.
    assert_eq!(
        ty("networking.hostName"),
        StrMatching("^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$".into())
    );
    assert_eq!(
        ty("boot.kernelParams"),
        ListOf(b(StrMatching(r#"([^"[:space:]]|"[^"]*")+"#.into())))
    );

    assert_eq!(ty("assertions"), ListOf(b(Unspecified)));
    assert_eq!(ty("fileSystems.<name>.options"), NonEmptyListOf(b(Str)));
    assert_eq!(
        ty("environment.shellAliases"),
        LazyAttrsOf(b(NullOr(b(Str))))
    );
    assert_eq!(ty("nix.registry"), AttrsOf(b(Anything)));
    assert_eq!(ty("nix.envVars"), Attrs);
    assert_eq!(ty("nix.evalHook"), Raw);
    assert_eq!(ty("hardware.quirks"), Uniq(b(ListOf(b(Str)))));
    assert_eq!(ty("system.stage2Hooks"), DagOf(b(OptionType::lines())));
    assert_eq!(
        ty("boot.initrd.compressor"),
        Either(b(Str), b(FunctionTo(b(Str))))
    );
    assert_eq!(
        ty("environment.variables"),
        AttrsOf(b(OneOf(vec![Str, Path, ListOf(b(Str))])))
    );
    assert_eq!(
        ty("nix.settings.max-jobs"),
        Either(b(positive), b(Enum(vec![EnumValue::Str("auto".into())])))
    );
    assert_eq!(
        ty("system.activationTimeout"),
        AddCheck(b(Int(IntType::signed())))
    );
    // `addCheck t f // { description = ..; }` keeps `t`'s name.
    assert_eq!(
        ty("system.stateVersion"),
        Custom {
            name: "str".into(),
            description: "release version (YY.MM)".into(),
            base: Some(b(AddCheck(b(Str)))),
        }
    );
    assert_eq!(
        ty("nix.storeDir"),
        Custom {
            name: "storeDir".into(),
            description: "Nix store directory".into(),
            base: None,
        }
    );
    match ty("system.activationScripts") {
        AttrsOf(inner) => match *inner {
            CoercedTo { from, to } => {
                assert_eq!(*from, Str);
                assert!(matches!(*to, Submodule(_)), "{to:?}");
            }
            other => panic!("not coercedTo: {other:?}"),
        },
        other => panic!("not attrsOf: {other:?}"),
    }
    // Nothing in the fixture needs a real evaluation to know its type.
    assert!(flat.iter().all(|o| !o.ty.has_unknown()));
}

#[test]
fn type_descriptions_read_like_nixpkgs() {
    let flat = fixture_extraction().options.flatten();
    let description = |name: &str| find(&flat, name).ty.description();
    assert_eq!(
        description("nix.settings.max-jobs"),
        "positive integer, meaning >0, or value \"auto\" (singular enum)"
    );
    assert_eq!(
        description("system.activationScripts"),
        "attribute set of ((submodule) or string convertible to it)"
    );
    assert_eq!(
        description("environment.variables"),
        "attribute set of (string or absolute path or list of string)"
    );
    assert_eq!(
        description("boot.kernel.sysctl"),
        "open submodule of attribute set of (sysctl value)"
    );
    assert_eq!(
        description("system.build"),
        "open submodule of lazy attribute set of unspecified value"
    );
    assert_eq!(
        description("boot.console.devices"),
        "non-empty (list of string)"
    );
    assert_eq!(
        description("services.getty.baudRates"),
        "list of (unsigned integer, meaning >=0)"
    );
    assert_eq!(
        description("system.stage2Hooks"),
        "DAG of strings concatenated with \"\\n\""
    );
}

#[test]
fn submodules_nest_with_placeholders() {
    let set = fixture_extraction().options;
    let flat = set.flatten();

    // Function submodule under attrsOf: `<name>`.
    assert_eq!(
        sub_options(&find(&flat, "users").ty),
        (
            vec!["<name>"],
            strs(&[
                "extraGroups",
                "gid",
                "home",
                "isSystemUser",
                "name",
                "packages",
                "password",
                "shell",
                "sshKeys",
                "uid"
            ])
        )
    );
    // Attribute-set submodule under listOf: `*`, nested twice.
    assert_eq!(
        sub_options(&find(&flat, "networking.interfaces").ty),
        (vec!["*"], strs(&["ipv4.addresses", "name", "useDHCP"]))
    );
    let deep = find(&flat, "networking.interfaces.*.ipv4.addresses.*.address");
    assert_eq!(
        deep.loc,
        strs(&[
            "networking",
            "interfaces",
            "*",
            "ipv4",
            "addresses",
            "*",
            "address"
        ])
    );
    // A submodule given as a path.
    let services = find(&flat, "micros.services");
    assert_eq!(
        sub_options(&services.ty),
        (
            vec!["<name>"],
            strs(&[
                "dependencies",
                "enable",
                "startOnBoot",
                "startScript",
                "type",
                "user"
            ])
        )
    );
    assert_eq!(
        find(&flat, "micros.services.<name>.enable").declarations[0]
            .file
            .display_name(),
        "micros/modules/system/service-options.nix"
    );
    // `listOf (submodule ..)` inside a `with lib.types;` scope.
    assert_eq!(
        sub_options(&find(&flat, "services.sshd.hostKeys").ty),
        (vec!["*"], strs(&["path", "type"]))
    );
    // coercedTo's target submodule.
    assert_eq!(
        sub_options(&find(&flat, "system.activationScripts").ty),
        (vec!["<name>"], strs(&["deps", "text"]))
    );

    // Freeform submodules.
    let OptionType::Submodule(sysctl) = &find(&flat, "boot.kernel.sysctl").ty else {
        panic!("sysctl is not a submodule");
    };
    assert_eq!(
        sysctl.freeform,
        Some(OptionType::AttrsOf(b(OptionType::Custom {
            name: "sysctl value".into(),
            description: "sysctl value".into(),
            base: None,
        })))
    );
    assert!(sysctl.shorthand_only_defines_config);
    assert_eq!(names(&sysctl.options), strs(&["\"vm.swappiness\""]));
    let swappiness = find(&flat, "boot.kernel.sysctl.\"vm.swappiness\"");
    assert_eq!(
        swappiness.loc,
        strs(&["boot", "kernel", "sysctl", "vm.swappiness"])
    );

    // `system.build.image` (micros) joins the `system.build` submodule
    // (nixpkgs), and `system.build` is declared in both files.
    let build = set
        .get(&strs(&["system", "build"]))
        .expect("system.build is a top-level option");
    let OptionType::Submodule(submodule) = &build.ty else {
        panic!("system.build is not a submodule");
    };
    assert_eq!(
        submodule.freeform,
        Some(OptionType::LazyAttrsOf(b(OptionType::Uniq(b(
            OptionType::Unspecified
        )))))
    );
    assert!(!submodule.shorthand_only_defines_config);
    assert_eq!(names(&submodule.options), strs(&["image"]));
    assert!(set.get(&strs(&["system", "build", "image"])).is_none());
    let files: Vec<(String, u32)> = build
        .declarations
        .iter()
        .map(|d| (d.file.display_name(), d.line))
        .collect();
    assert_eq!(
        files,
        vec![
            ("<nixpkgs>/nixos/modules/system/build.nix".to_string(), 7),
            ("micros/modules/system/build.nix".to_string(), 3),
        ]
    );
    assert_eq!(find(&flat, "system.build.image").declarations[0].line, 3);
}

#[test]
fn submodule_declarations_in_two_modules_merge() {
    let flat = fixture_extraction().options.flatten();

    // `submodule` declared twice: both modules' options, the freeform type
    // of the first, both files as declarations.
    let settings = find(&flat, "nix.settings");
    assert_eq!(
        sub_options(&settings.ty),
        (vec![], strs(&["cores", "max-jobs", "substituters"]))
    );
    let OptionType::Submodule(submodule) = &settings.ty else {
        panic!("nix.settings is not a submodule");
    };
    assert!(submodule.freeform.is_some());
    let files: Vec<String> = settings
        .declarations
        .iter()
        .map(|d| d.file.display_name())
        .collect();
    assert_eq!(
        files,
        strs(&[
            "micros/modules/nix/nix.nix",
            "micros/modules/nix/substituters.nix"
        ])
    );
    assert_eq!(
        find(&flat, "nix.settings.substituters").declarations[0]
            .file
            .display_name(),
        "micros/modules/nix/substituters.nix"
    );

    // `attrsOf (submodule ..)` declared twice merges the same way.
    let users = find(&flat, "users");
    assert!(matches!(users.ty, OptionType::AttrsOf(_)), "{:?}", users.ty);
    let ssh_keys = find(&flat, "users.<name>.sshKeys");
    assert_eq!(ssh_keys.ty, OptionType::ListOf(b(OptionType::Str)));
    assert_eq!(
        ssh_keys.declarations[0].file.display_name(),
        "micros/modules/services/sshd.nix"
    );
    assert_eq!(ssh_keys.declarations[0].line, 90);
    // The default comes from the declaration that has one.
    assert_eq!(users.default, expr("{ }"));
}

#[test]
fn defaults_examples_and_descriptions() {
    let flat = fixture_extraction().options.flatten();
    let option = |name: &str| find(&flat, name);

    // `config` inside a submodule answers with the declared defaults.
    assert_eq!(option("users.<name>.gid").default, expr("1000"));
    // The submodule's `name` is the placeholder.
    assert_eq!(
        option("users.<name>.home").default,
        expr("\"/home/‹name›\"")
    );
    assert_eq!(
        option("fileSystems.<name>.mountPoint").default,
        expr("\"‹name›\"")
    );
    // Needs `pkgs`, `config`: the source text.
    assert_eq!(
        option("users.<name>.shell").default,
        expr("\"${pkgs.busybox}/bin/sh\"")
    );
    assert_eq!(
        option("services.sshd.banner").default,
        expr("\"${cfg.package}/share/banner\"")
    );
    // defaultText wins over default.
    let moduli = option("services.sshd.moduliFile");
    assert_eq!(moduli.default_text, expr("\"${pkgs.openssh}/etc/moduli\""));
    assert_eq!(
        moduli.shown_default(),
        expr("\"${pkgs.openssh}/etc/moduli\"").as_ref()
    );
    let name = option("users.<name>.name");
    assert_eq!(
        name.default_text,
        Some(Literal::markdown("the attribute name"))
    );
    assert_eq!(name.default, expr("\"‹name›\""));

    // Plain values render as `toPretty { multiline = true; }`.
    assert_eq!(
        option("services.getty.ttys").default,
        expr("[\n  \"tty1\"\n  \"tty2\"\n]")
    );
    assert_eq!(
        option("services.getty.greeting").default,
        expr("''\n  Welcome to MicrOS.\n  Log in as root.\n''")
    );
    assert_eq!(option("hardware.cpuFrequencyScale").default, expr("0.5"));
    assert_eq!(option("services.getty.extraArgs").default, expr("\"\""));
    assert_eq!(
        option("services.sshd.hostKeys").default,
        expr(
            "[\n  {\n    path = \"/etc/ssh/ssh_host_ed25519_key\";\n    type = \"ed25519\";\n  }\n]"
        )
    );
    assert_eq!(
        option("users").example,
        expr(
            "{\n  alice = {\n    extraGroups = [\n      \"wheel\"\n    ];\n    uid = 1001;\n  };\n}"
        )
    );
    assert_eq!(
        option("networking.interfaces").example,
        expr("[\n  {\n    name = \"eth0\";\n  }\n]")
    );
    assert_eq!(
        option("environment.variables").example,
        expr("{\n  EDITOR = \"vi\";\n  PATH = [\n    \"/bin\"\n    \"/usr/bin\"\n  ];\n}")
    );
    // literalExpression keeps its text.
    assert_eq!(
        option("fileSystems").example,
        expr("{ \"/\".device = \"/dev/vda1\"; }\n")
    );
    assert_eq!(
        option("boot.initrd.compressor").example,
        expr("pkgs: \"${pkgs.xz}/bin/xz\"")
    );
    assert_eq!(
        option("environment.systemPackages").example,
        expr("[ pkgs.hello pkgs.htop ]")
    );

    // An option without a default documents its type's empty value,
    // unless the type has sub-options.
    assert_eq!(option("micros.services.<name>.user").default, expr("null"));
    assert_eq!(option("micros.services.<name>.startScript").default, None);
    assert_eq!(option("system.build.image").default, None);
    assert_eq!(option("networking.interfaces.*.name").default, None);

    // mkEnableOption, also with `// { default = true; }`.
    let sshd = option("services.sshd.enable");
    assert_eq!(sshd.ty, OptionType::Bool);
    assert_eq!(
        (sshd.default.clone(), sshd.example.clone()),
        (expr("false"), expr("true"))
    );
    assert_eq!(
        sshd.description.as_deref(),
        Some("Whether to enable the SSH daemon.")
    );
    let firewall = option("networking.firewall.enable");
    assert_eq!(firewall.default, expr("true"));
    assert_eq!(
        firewall.description.as_deref(),
        Some("Whether to enable the packet filter.")
    );
    let service = option("micros.services.<name>.enable");
    assert_eq!(service.default, expr("true"));
    assert_eq!(
        service.description.as_deref(),
        Some("Whether to enable the ‹name› service.")
    );

    // mkPackageOption: plain, nullable, and with a default attribute path.
    let getty = option("services.getty.package");
    assert_eq!(getty.default_text, expr("pkgs.hello"));
    assert_eq!(
        getty.description.as_deref(),
        Some("The hello package to use.")
    );
    let regdb = option("hardware.wirelessRegulatoryDatabase");
    assert_eq!(regdb.shown_default(), expr("pkgs.wireless-regdb").as_ref());
    let microcode = option("hardware.cpuMicrocode");
    assert_eq!(microcode.ty, OptionType::NullOr(b(OptionType::Package)));
    assert_eq!(
        microcode.shown_default(),
        expr("pkgs.microcode.intel").as_ref()
    );
    assert_eq!(
        microcode.description.as_deref(),
        Some("The Intel microcode package to use.")
    );

    // An option built by a helper called twice.
    for (name, default, who) in [
        ("services.sshd.port", "22", "the SSH daemon"),
        ("services.sshd.metricsPort", "9100", "the metrics exporter"),
    ] {
        let port = option(name);
        assert_eq!(port.ty, OptionType::port());
        assert_eq!(port.default, expr(default));
        assert_eq!(
            port.description.as_deref(),
            Some(format!("The TCP port {who} listens on.").as_str())
        );
    }

    // Multi-line descriptions keep their text and option references.
    assert_eq!(
        option("users").description.as_deref(),
        Some(
            "User accounts, by login name.\n\nSee {option}`users.<name>.uid` and {option}`users.<name>.shell`.\n"
        )
    );
    assert_eq!(
        option("users.<name>.gid").description.as_deref(),
        Some("The primary group id. Unless set, the same as\n{option}`users.<name>.uid`.\n")
    );
    assert_eq!(
        option("boot.kernel.sysctl").description.as_deref(),
        Some(
            "Runtime parameters of the kernel, as set by {command}`sysctl`.\nSetting one to `null` leaves it at the kernel's default.\n"
        )
    );
}

#[test]
fn visibility_read_only_and_internal() {
    let set = fixture_extraction().options;
    let flat = set.flatten();
    let option = |name: &str| find(&flat, name);

    // "shallow": listed, but its sub-options are not; the type keeps them.
    let interfaces = option("networking.firewall.interfaces");
    assert_eq!(interfaces.visible, Visibility::Shallow);
    assert!(interfaces.visible.is_visible());
    assert!(
        !flat
            .iter()
            .any(|o| o.name().starts_with("networking.firewall.interfaces.")),
        "sub-options of a shallow option are listed"
    );
    assert_eq!(
        sub_options(&interfaces.ty),
        (
            vec!["<name>"],
            strs(&["allowedTCPPorts", "allowedUDPPorts"])
        )
    );
    // The same let-bound options, merged with `//`, at the top level.
    assert_eq!(
        option("networking.firewall.allowedUDPPorts").ty,
        OptionType::ListOf(b(OptionType::port()))
    );

    // "transparent": hidden itself, its sub-options listed.
    let scripts = option("system.activationScripts");
    assert_eq!(scripts.visible, Visibility::Transparent);
    assert!(!scripts.visible.is_visible());
    option("system.activationScripts.<name>.text");

    assert_eq!(option("nix.nrBuildUsers").visible, Visibility::Hidden);
    assert_eq!(option("nix.registry").visible, Visibility::Visible);

    for name in ["services.sshd.configFile", "system.build.image"] {
        assert!(option(name).read_only, "{name} is not read-only");
    }
    for name in ["services.sshd.port", "system.builderCommands"] {
        assert!(!option(name).read_only, "{name} is read-only");
    }
    for name in [
        "assertions",
        "warnings",
        "nix.envVars",
        "nix.evalHook",
        "system.builderCommands",
    ] {
        assert!(option(name).internal, "{name} is not internal");
    }
    assert!(!option("nix.registry").internal);

    let sink = option("documentation");
    assert!(sink.internal);
    assert_eq!(sink.visible, Visibility::Hidden);
    assert_eq!(sink.default, expr("false"));
    assert_eq!(sink.ty.description(), "sink");

    // Documentation leaves internal options out unless asked.
    let public: serde_json::Value = serde_json::from_str(&json::to_json(&set, false)).unwrap();
    let everything: serde_json::Value = serde_json::from_str(&json::to_json(&set, true)).unwrap();
    for name in ["assertions", "nix.evalHook", "documentation"] {
        assert!(
            public.get(name).is_none(),
            "{name} is in public options.json"
        );
        assert!(everything.get(name).is_some(), "{name} is missing");
    }
    assert!(public.get("nix.registry").is_some());
    assert_eq!(
        everything["networking.firewall.interfaces"]["visible"],
        true
    );
    assert_eq!(everything["system.activationScripts"]["visible"], false);
    assert_eq!(everything["services.sshd.configFile"]["readOnly"], true);
}

#[test]
fn migrations_are_recorded_and_declare_the_old_paths() {
    let set = fixture_extraction().options;
    let migrations: Vec<(String, MigrationKind, String)> = set
        .migrations
        .iter()
        .map(|m| {
            (
                m.from.join("."),
                m.kind.clone(),
                m.declaration.file.display_name(),
            )
        })
        .collect();
    let compat = "micros/modules/misc/compat.nix".to_string();
    assert_eq!(
        migrations,
        vec![
            (
                "boot.loader.grub".into(),
                MigrationKind::Removed {
                    message:
                        "MicrOS boots its kernel directly; there is no boot loader to configure.\n"
                            .into()
                },
                compat.clone()
            ),
            (
                "environment.packages".into(),
                MigrationKind::Alias {
                    to: strs(&["environment", "systemPackages"])
                },
                compat.clone()
            ),
            (
                "services.openssh.enable".into(),
                MigrationKind::Renamed {
                    to: strs(&["services", "sshd", "enable"])
                },
                compat.clone()
            ),
        ]
    );

    let flat = set.flatten();
    // A rename takes the new option's type and is hidden.
    let renamed = find(&flat, "services.openssh.enable");
    assert_eq!(renamed.ty, OptionType::Bool);
    assert_eq!(renamed.visible, Visibility::Hidden);
    assert_eq!(
        renamed.description.as_deref(),
        Some("Alias of {option}`services.sshd.enable`.")
    );
    // An alias is visible.
    let alias = find(&flat, "environment.packages");
    assert_eq!(alias.ty, OptionType::ListOf(b(OptionType::Package)));
    assert_eq!(alias.visible, Visibility::Visible);
    assert_eq!(find(&flat, "boot.loader.grub").visible, Visibility::Hidden);
    assert_eq!(alias.declarations[0].file.display_name(), compat);
}

#[test]
fn declarations_name_files_lines_and_ranges() {
    let flat = fixture_extraction().options.flatten();
    let cases: &[(&str, RootKind, &str, u32, u32)] = &[
        (
            "assertions",
            RootKind::Nixpkgs,
            "<nixpkgs>/nixos/modules/misc/assertions.nix",
            8,
            5,
        ),
        (
            "warnings",
            RootKind::Nixpkgs,
            "<nixpkgs>/nixos/modules/misc/assertions.nix",
            24,
            5,
        ),
        (
            "boot.kernel.sysctl",
            RootKind::Nixpkgs,
            "<nixpkgs>/nixos/modules/config/sysctl.nix",
            14,
            3,
        ),
        (
            "boot.kernel.sysctl.\"vm.swappiness\"",
            RootKind::Nixpkgs,
            "<nixpkgs>/nixos/modules/config/sysctl.nix",
            17,
            7,
        ),
        (
            "boot.console.baudRate",
            RootKind::Micros,
            "micros/modules/system/boot/console.nix",
            4,
            5,
        ),
        (
            "boot.initrd.extraFiles.<name>.source",
            RootKind::Micros,
            "micros/modules/system/boot/initrd/default.nix",
            16,
            9,
        ),
        (
            "boot.kernel.package",
            RootKind::Micros,
            "micros/modules/system/boot/kernel.nix",
            13,
            5,
        ),
        // Declared in a let-bound set that is merged in with `//`.
        (
            "networking.firewall.allowedTCPPorts",
            RootKind::Micros,
            "micros/modules/networking/firewall.nix",
            7,
            5,
        ),
        // Built by a helper: the attribute that calls it.
        (
            "services.sshd.metricsPort",
            RootKind::Micros,
            "micros/modules/services/sshd.nix",
            22,
            5,
        ),
        // `inherit stateVersion;`
        (
            "system.stateVersion",
            RootKind::Micros,
            "micros/modules/system/activation.nix",
            29,
            5,
        ),
        (
            "networking.interfaces.*.ipv4.addresses",
            RootKind::Micros,
            "micros/modules/networking/networking.nix",
            56,
            11,
        ),
        (
            "micros.services.<name>.type",
            RootKind::Micros,
            "micros/modules/system/service-options.nix",
            11,
            5,
        ),
        (
            "services.getty.enable",
            RootKind::Micros,
            "micros/modules/services/getty.nix",
            11,
            7,
        ),
        (
            "documentation",
            RootKind::Micros,
            "micros/modules/misc/compat.nix",
            12,
            3,
        ),
    ];
    for &(name, root, file, line, column) in cases {
        let declaration = &find(&flat, name).declarations[0];
        assert_eq!(declaration.file.root, root, "{name}");
        assert_eq!(declaration.file.display_name(), file, "{name}");
        assert_eq!(
            (declaration.line, declaration.column),
            (line, column),
            "{name}"
        );
    }

    // The range is the declaring attribute, in bytes of the file.
    let root = fixtures();
    for (name, path, start) in [
        (
            "networking.firewall.interfaces",
            "micros/micros/modules/networking/firewall.nix",
            "interfaces = mkOption {",
        ),
        (
            "boot.kernel.sysctl",
            "nixpkgs/nixos/modules/config/sysctl.nix",
            "options.boot.kernel.sysctl = mkOption {",
        ),
        (
            "users.<name>.sshKeys",
            "micros/micros/modules/services/sshd.nix",
            "options.sshKeys = mkOption {",
        ),
    ] {
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        let declaration = &find(&flat, name).declarations[0];
        let (from, to) = declaration.range.expect("a declaration with a position");
        let declared = &text[from as usize..to as usize];
        assert!(declared.starts_with(start), "{name}: {declared}");
        assert!(declared.ends_with("};"), "{name}: {declared}");
        let line = text[..from as usize].matches('\n').count() as u32 + 1;
        assert_eq!(line, declaration.line, "{name}");
    }
}

#[test]
fn json_round_trips_names_and_types() {
    let set = fixture_extraction().options;
    let text = json::to_json(&set, true);
    let back = json::from_json(&text).expect("our own options.json reads back");
    let summary = |set: &OptionSet| -> Vec<(String, String)> {
        set.flatten()
            .iter()
            .map(|o| (o.name(), o.ty.description()))
            .collect()
    };
    let original = summary(&set);
    assert!(original.len() > 100, "{}", original.len());
    assert_eq!(summary(&back), original);
    // Sub-options go back into their submodules.
    assert_eq!(
        sub_options(&find(&back.options, "users").ty),
        sub_options(&find(&set.options, "users").ty)
    );
    // A hidden option whose sub-options are listed is "transparent".
    assert_eq!(
        find(&back.options, "system.activationScripts").visible,
        Visibility::Transparent
    );
    assert_eq!(
        find(&back.options, "nix.nrBuildUsers").visible,
        Visibility::Hidden
    );
    // Positions survive.
    let back_flat = back.flatten();
    let port = find(&back_flat, "services.sshd.port");
    assert_eq!(
        port.declarations[0].file.display_name(),
        "micros/modules/services/sshd.nix"
    );
    assert_eq!(
        (port.declarations[0].line, port.declarations[0].column),
        (20, 5)
    );
    assert_eq!(
        find(&back_flat, "warnings").declarations[0].file.root,
        RootKind::Nixpkgs
    );
    assert_eq!(
        find(&back_flat, "users.<name>.name").default,
        Some(Literal::markdown("the attribute name"))
    );
}

#[test]
fn user_modules_extend_the_option_set() {
    let user_root = fixtures().join("user");
    let extraction = user_extraction(&user_root);
    assert_eq!(extraction.diagnostics, Vec::new());
    let flat = extraction.options.flatten();

    let enable = find(&flat, "services.myService.enable");
    assert_eq!(enable.ty, OptionType::Bool);
    assert_eq!(enable.declarations[0].file.root, RootKind::User);
    assert_eq!(
        enable.declarations[0].file.display_name(),
        "modules/my-service.nix"
    );
    assert_eq!(enable.declarations[0].line, 7);
    let port = find(&flat, "services.myService.port");
    assert_eq!(port.ty, OptionType::port());
    assert_eq!(port.default, expr("8080"));
    assert_eq!(
        (
            port.declarations[0].file.path.as_str(),
            port.declarations[0].line
        ),
        ("modules/my-service.nix", 9)
    );

    // The system's own options are all still there, unchanged.
    let system = fixture_extraction().options.flatten();
    let user_only: Vec<String> = names(&flat)
        .into_iter()
        .filter(|n| !names(&system).contains(n))
        .collect();
    assert_eq!(
        user_only,
        strs(&["services.myService.enable", "services.myService.port"])
    );
    assert_eq!(
        find(&flat, "services.getty.enable").declarations[0]
            .file
            .display_name(),
        "micros/modules/services/getty.nix"
    );
    // The configuration's imports were read.
    assert!(
        extraction
            .files
            .iter()
            .any(|f| f.path.ends_with("user/hardware-configuration.nix"))
    );
}

#[cfg(unix)]
#[test]
fn roots_named_through_a_symlink_still_name_files_relative_to_them() {
    let link = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fixture-user-link");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(fixtures().join("user"), &link).unwrap();
    let extraction = user_extraction(&link);
    let _ = std::fs::remove_file(&link);
    let flat = extraction.options.flatten();
    let declaration = &find(&flat, "services.myService.port").declarations[0];
    assert_eq!(declaration.file.root, RootKind::User);
    assert_eq!(declaration.file.path, "modules/my-service.nix");
}

#[test]
fn broken_modules_are_reported_and_the_rest_is_extracted() {
    let extraction = broken_extraction();
    assert_no_extractor_failure(&extraction.diagnostics);
    let dir = fixtures().join("broken");
    let diagnostic = |file: &str, needle: &str| -> &Diagnostic {
        extraction
            .diagnostics
            .iter()
            .find(|d| d.file.ends_with(file) && d.message.contains(needle))
            .unwrap_or_else(|| {
                panic!(
                    "no diagnostic in {file} mentioning {needle:?}: {:#?}",
                    extraction.diagnostics
                )
            })
    };

    // The missing `;` after `type = lib.types.int` (line 10): the parser
    // stops at the `=` of the next line, as Nix does.
    let syntax = diagnostic("syntax-error.nix", "expected `;`");
    assert_eq!(syntax.severity, Severity::Error);
    assert_eq!((syntax.line, syntax.column), (11, 15));
    assert_eq!(
        syntax.file,
        micros_options::eval::normalize(&dir.join("syntax-error.nix"))
    );

    // Both point at the import itself, not the whole `imports` list.
    let missing = diagnostic("missing-import.nix", "does-not-exist.nix");
    assert_eq!(missing.severity, Severity::Error);
    assert_eq!((missing.line, missing.column), (3, 15));

    // cycle-a.nix → cycle-b.nix → cycle-a.nix: reported where it closes.
    let cycle = diagnostic("cycle-b.nix", "import cycle");
    assert_eq!((cycle.line, cycle.column), (3, 15));
    assert!(cycle.message.contains("cycle-a.nix"), "{}", cycle.message);

    let unresolved = diagnostic("unresolvable-type.nix", "`pkgs.someType`");
    assert_eq!(unresolved.severity, Severity::Warning);
    assert_eq!((unresolved.line, unresolved.column), (5, 7));
    assert!(unresolved.message.contains("broken.types.mystery"));

    // Everything else in those files still comes out.
    let flat = extraction.options.flatten();
    let declared_in = |name: &str| {
        let option = find(&flat, name);
        (
            option.declarations[0].file.path.clone(),
            option.declarations[0].line,
        )
    };
    assert_eq!(
        declared_in("broken.syntax.before"),
        ("syntax-error.nix".into(), 4)
    );
    assert_eq!(
        declared_in("broken.missing.stillHere"),
        ("missing-import.nix".into(), 5)
    );
    assert_eq!(declared_in("broken.cycle.a"), ("cycle-a.nix".into(), 5));
    assert_eq!(declared_in("broken.cycle.b"), ("cycle-b.nix".into(), 5));
    assert_eq!(
        find(&flat, "broken.types.known").ty,
        OptionType::NullOr(b(OptionType::Str))
    );
    let mystery = find(&flat, "broken.types.mystery");
    assert_eq!(mystery.ty, OptionType::Unknown("pkgs.someType".into()));
    assert_eq!(mystery.default, expr("{ }"));
    assert_eq!(
        mystery.description.as_deref(),
        Some("Its type comes from a package set.")
    );
    assert_eq!(
        names(&flat),
        strs(&[
            "broken.cycle.a",
            "broken.cycle.b",
            "broken.missing.stillHere",
            "broken.syntax.before",
            "broken.syntax.oops",
            "broken.types.known",
            "broken.types.mystery",
        ])
    );
}

#[test]
fn each_broken_file_alone_is_reported() {
    // Given directly rather than through default.nix, each file still
    // yields its diagnostic and its sound options.
    let dir = fixtures().join("broken");
    for (file, needle, option) in [
        ("syntax-error.nix", "expected `;`", "broken.syntax.before"),
        (
            "missing-import.nix",
            "no such file",
            "broken.missing.stillHere",
        ),
        ("cycle-a.nix", "import cycle", "broken.cycle.b"),
        (
            "unresolvable-type.nix",
            "pkgs.someType",
            "broken.types.known",
        ),
    ] {
        let extraction = extract(&ExtractRequest {
            roots: vec![Root {
                kind: RootKind::User,
                dir: dir.clone(),
            }],
            modules: vec![ModuleSource::File(dir.join(file))],
            skip_imports: false,
        });
        assert_no_extractor_failure(&extraction.diagnostics);
        assert!(
            extraction
                .diagnostics
                .iter()
                .any(|d| d.message.contains(needle) && d.line > 0),
            "{file}: {:#?}",
            extraction.diagnostics
        );
        find(&extraction.options.flatten(), option);
    }
}
