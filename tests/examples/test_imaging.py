"""The imaging case study: zero-copy blur, its comparisons, workers, and the demo's PNGs."""

from __future__ import annotations

import ctypes
import gc
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from pngcodec import read_png

import ffikit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "imaging"))
import imaging  # noqa: E402


@pytest.fixture(scope="module")
def image(build_cache):
    return imaging.make_test_image(96, 80, 3)


@pytest.fixture(scope="module", autouse=True)
def _stop_workers():
    yield
    imaging.shutdown_workers()


class TestGaussianBlur:
    def test_agrees_with_every_method(self, image):
        """ffikit, memmove, NumPy and pure Python agree within one grey level."""
        ours = imaging.gaussian_blur(image)
        assert not np.array_equal(ours, image)
        for other in (imaging.blur_memmove(image), imaging.blur_numpy(image)):
            assert np.abs(other.astype(int) - ours).max() <= 1
        crop = np.ascontiguousarray(image[:20, :24])
        assert np.abs(imaging.blur_python(crop).astype(int) - imaging.gaussian_blur(crop)).max() <= 1

    def test_flat_image_stays_flat_at_borders(self, build_cache):
        """Border renormalisation: a constant image is unchanged, edges included."""
        flat = np.full((9, 7, 1), 200, np.uint8)
        assert np.array_equal(imaging.gaussian_blur(flat), flat)

    def test_writes_into_out_in_place(self, image):
        """C writes straight into the caller's array: the struct points at its address."""
        out = np.zeros_like(image)
        struct = imaging.image_struct(out)
        assert ctypes.cast(struct.data, ctypes.c_void_p).value == ffikit.address(out)
        assert imaging.gaussian_blur(image, out=out) is out
        assert np.array_equal(out, imaging.gaussian_blur(image))

    def test_struct_keeps_array_alive(self, build_cache):
        """Deleting every other reference to the array leaves the struct's pointer valid."""
        struct = imaging.image_struct(np.full((4, 4, 1), 77, np.uint8))
        gc.collect()
        assert bytes(ctypes.string_at(struct.data, 16)) == bytes([77] * 16)

    def test_zero_copy_peak_memory(self, build_cache):
        """ffikit allocates far less than one image; the memmove version at least one."""
        big = imaging.make_test_image(1024, 1024, 3)
        out = np.empty_like(big)
        imaging.gaussian_blur(big, out=out)
        imaging.blur_memmove(big)
        tracemalloc.start()
        imaging.gaussian_blur(big, out=out)
        ours = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        imaging.blur_memmove(big)
        theirs = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert ours < big.nbytes // 100
        assert theirs >= big.nbytes

    def test_two_workers_equal_one_byte_for_byte(self, image):
        one = imaging.gaussian_blur(image)
        assert np.array_equal(imaging.gaussian_blur(image, workers=2), one)
        with imaging.SharedImage(image.shape) as src:
            src.array[...] = image
            imaging.CopyMeter.take()
            dst = imaging.gaussian_blur(src, workers=2)
            assert imaging.CopyMeter.take() == 0
            assert np.array_equal(dst.array, one)
            dst.close()

    def test_rejects_wrong_dtype(self, build_cache):
        with pytest.raises(TypeError, match=r"image_struct: image must be a uint8 NumPy array "
                                            r"\(got ndarray of float32\)"):
            imaging.image_struct(np.zeros((2, 2, 1), np.float32))

    def test_rejects_non_contiguous(self, image):
        with pytest.raises(ValueError, match=r"must be C-contiguous; use np.ascontiguousarray"):
            imaging.gaussian_blur(image[:, ::2])

    def test_c_error_code_named(self, image):
        """A bad kernel size reaches C, which returns -2: raised with the code's name."""
        lib = imaging.library()
        s = imaging.image_struct(image)
        with pytest.raises(ffikit.CallError, match=r"apply_convolution failed: returned -2 "
                                                   r"\(bad argument\)"):
            lib.apply_convolution(s, s, imaging.gaussian_kernel(3), 4)


class TestGaussianKernel:
    def test_normalised(self):
        k = imaging.gaussian_kernel(5, 1.0)
        assert k.shape == (5, 5) and k.dtype == np.float32
        assert abs(float(k.sum()) - 1.0) < 1e-6 and k[2, 2] == k.max()

    def test_even_size_refused(self):
        with pytest.raises(ValueError, match=r"ksize must be odd and positive \(got 4\)"):
            imaging.gaussian_kernel(4)


class TestDemo:
    def test_end_to_end_small(self, build_cache, tmp_path, capsys):
        from ffikit.tools.cli import main
        assert main(["demo", "--size", "72", "--quick", "--out", str(tmp_path)]) == 0
        text = capsys.readouterr().out
        for label in ("ctypes + memmove (tutorial)", "ffikit zero-copy", "2 workers",
                      "NumPy (vectorised)", "pure Python, 64x64 crop (scaled)", "-- OK"):
            assert label in text
        assert "| ffikit zero-copy" in text and "|             0 |" in text
        before, after = read_png(str(tmp_path / "before.png")), read_png(str(tmp_path / "after.png"))
        assert (before.width, before.height, before.channels) == (72, 72, 3)
        assert before.pixels == imaging.make_test_image(72, 72, 3).tobytes()
        assert after.pixels == imaging.gaussian_blur(imaging.make_test_image(72, 72, 3)).tobytes()
