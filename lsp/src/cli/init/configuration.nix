# What the system is: its users, services and packages. Add files of your
# own to `imports` (and `git add` them: Nix sees only what git tracks).
{pkgs, ...}: {
  imports = [];

  # A login prompt on the serial console.
  services.getty.enable = true;

  users.micros = {
    uid = 1000;
    gid = 1000;
    # "" lets this user log in without a password; "!" turns password
    # login off. A password goes here as a hash: `mkpasswd -m yescrypt`.
    password = "";
    packages = [pkgs.vim];
  };

  # A service of your own, run once when the system starts.
  micros.services.hello = {
    type = "oneshot";
    startOnBoot = true;
    startScript = ''
      #!${pkgs.busybox}/bin/ash
      exec ${pkgs.hello}/bin/hello
    '';
  };

  # Installed for every user.
  environment.systemPackages = [pkgs.curl];

  networking.firewall.enable = true;
  networking.nftables.enable = true;
}
