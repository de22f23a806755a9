import pytest
import torch

from lmhelpers.device import (
    DeviceError,
    autocast_dtype,
    environment_report,
    needs_grad_scaler,
    pick_device,
    recommend_preset,
)


def test_auto_picks_what_exists():
    d = pick_device("auto")
    expected = "cuda" if torch.cuda.is_available() else d.type
    assert d.type == expected
    assert pick_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(DeviceError, match="no CUDA GPU.*device='auto'"):
        pick_device("cuda")


def test_unknown_device():
    with pytest.raises(DeviceError, match="unknown device"):
        pick_device("tpu")


def test_autocast_policy():
    cpu = torch.device("cpu")
    assert autocast_dtype(cpu) is None
    assert autocast_dtype(cpu, "bfloat16") is torch.bfloat16
    assert autocast_dtype(cpu, "float32") is None
    assert needs_grad_scaler(torch.float16) and not needs_grad_scaler(torch.bfloat16)


def test_environment_report_and_recommendation():
    r = environment_report(torch.device("cpu"))
    assert r["torch"] == torch.__version__ and r["device"] == "cpu" and r["autocast_dtype"] == "float32"
    assert recommend_preset(r)[0] == "cpu"
    assert recommend_preset({"device": "cuda", "gpu_memory_gb": 15.0, "device_name": "Tesla T4"})[0] == "t4"
    assert (
        recommend_preset({"device": "cuda", "gpu_memory_gb": 80.0, "device_name": "H100"})[0] == "reference"
    )
