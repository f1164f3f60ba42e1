"""Disk images made byte by byte for the format-inspection tests: the
headers oslo.utils' format inspector reads, after the formats' own
specifications (qcow2: QEMU's docs/interop/qcow2.txt)."""

import struct

QCOW2_MAGIC = b'QFI\xfb'
# Incompatible feature bit 2: the image's data lives in an external file.
QCOW2_EXTERNAL_DATA_FILE = 1 << 2


def qcow2(virtual_size, backing_file=None, incompatible_features=0,
          length=64 * 1024):
    """A qcow2 (version 3) image of ``virtual_size`` bytes: its header,
    the name of its backing file if any, zeros up to ``length``."""
    backing = (backing_file or '').encode()
    backing_offset = 512 if backing else 0
    header = struct.pack(
        '>4sIQIIQIIQQIIQQQQII', QCOW2_MAGIC, 3, backing_offset,
        len(backing), 16, virtual_size, 0, 0, 0, 0, 0, 0, 0,
        incompatible_features, 0, 0, 4, 104)
    image = header.ljust(512, b'\0') + backing
    return image.ljust(length, b'\0')


def mbr(boot_flag=0x00, length=64 * 1024):
    """A disk starting with the protective MBR of a GPT disk: one
    partition of type 0xEE from LBA 1. A ``boot_flag`` other than 0x00 or
    0x80 makes the MBR invalid (its safety check fails)."""
    entry = struct.pack('<B3BB3BII', boot_flag, 0x00, 0x02, 0x00, 0xEE,
                        0xFF, 0xFF, 0xFF, 1, 0xFFFFFFFF)
    sector = bytearray(512)
    sector[446:462] = entry
    sector[510:512] = b'\x55\xaa'
    return bytes(sector).ljust(length, b'\0')


def iso(blocks, hybrid=False):
    """An ISO 9660 image of ``blocks`` 2048-byte blocks: its primary
    volume descriptor at 32 KiB. ``hybrid``: the system area holds a
    protective MBR too, as bootable "isohybrid" images do."""
    system_area = mbr(length=32 * 1024) if hybrid else bytes(32 * 1024)
    descriptor = bytearray(2048)
    descriptor[0:7] = b'\x01CD001\x01'
    descriptor[80:88] = struct.pack('<I', blocks) + struct.pack('>I', blocks)
    descriptor[128:132] = struct.pack('<H', 2048) + struct.pack('>H', 2048)
    return system_area + bytes(descriptor) + bytes(
        max(0, blocks * 2048 - 34 * 1024))


def qcow2_and_iso():
    """Data that is a qcow2 and an ISO at once: one header hidden in the
    other, which no reader can take for one format."""
    image = bytearray(qcow2(1024 ** 3, length=40 * 2048))
    image[32 * 1024:34 * 1024] = iso(40)[32 * 1024:34 * 1024]
    return bytes(image)
