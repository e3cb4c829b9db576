# What the PyTorch baselines print about the torch they ran on: version, BLAS_INFO, the BLAS library
# the process actually mapped (Debian's libblas.so.3 is an alternative, so the name says nothing by
# itself), whether oneDNN is there, and the intra-op thread count. Shared by kv_sampler.py and
# nanogpt_equivalent.py (each script's own folder is on sys.path when it runs).
import os
import torch

def blas_library():  # the shared libraries BLAS calls resolve to, symlinks resolved
    libs = {line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and "/" in line}
    return sorted(os.path.realpath(p) for p in libs)

def describe():
    show = torch.__config__.show()
    blas = next((part.split("=", 1)[1] for part in show.replace(",", "\n").split() if part.startswith("BLAS_INFO=")), "unknown")
    return dict(torch=torch.__version__, blas=blas, blasLibrary=blas_library(), mkldnn=torch.backends.mkldnn.is_available(), threads=torch.get_num_threads())
