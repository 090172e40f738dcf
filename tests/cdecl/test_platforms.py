"""Target ABIs by name, and the host's own."""

from __future__ import annotations

import pytest

from ffikit.cdecl.platforms import Platform, get_platform, host_platform


class TestPlatforms:
    def test_host(self):
        import platform
        import sys

        host = host_platform()
        assert host is get_platform(None) and host.pointer_size == (8 if sys.maxsize > 2**32
                                                                   else 4)
        assert host.char_signed == (platform.machine() not in ("aarch64", "arm64"))

    def test_names(self):
        assert get_platform("windows").name == "windows-x86_64"
        assert get_platform("linux-aarch64").char_signed is False
        assert get_platform(get_platform("windows")) is get_platform("windows")
        assert repr(get_platform("windows")) == "<Platform windows-x86_64>"

    def test_unknown(self):
        with pytest.raises(ValueError, match="unknown platform 'vax'; known platforms: .*linux"):
            get_platform("vax")

    def test_is_a_value(self):
        assert isinstance(get_platform("linux-x86_64"), Platform)


def test_host_machine_is_platform_machine_lower_case():
    import platform

    from ffikit.cdecl.platforms import host_machine

    assert host_machine() == platform.machine().lower()
