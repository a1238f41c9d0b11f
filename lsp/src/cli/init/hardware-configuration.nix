# What the ISO image needs from the machine it boots on: disk drivers,
# file systems and network interfaces. The container image leaves all of
# this to its runtime and does not include this file.
{...}: {
  # Disk controllers, loaded early to find the boot medium.
  boot.initrd.kernelModules = ["ahci" "ata_piix" "sata_nv" "sata_sil" "sata_via"];

  # The root lives in memory; the store is a squashfs on the ISO.
  fileSystems."/" = {
    device = "tmpfs";
    fsType = "tmpfs";
    neededForBoot = true;
  };
  fileSystems."/iso" = {
    device = "/dev/disk/by-label/micros";
    fsType = "iso9660";
    options = ["ro"];
    neededForBoot = true;
  };
  fileSystems."/nix/store" = {
    device = "/mnt-root/iso/root.squashfs";
    fsType = "squashfs";
    options = ["ro"];
    neededForBoot = true;
  };

  networking.interfaces = [{name = "eth0";}];
}
