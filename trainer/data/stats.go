package data

// Per-channel (RGB) means and standard deviations for Normalize-style
// preprocessing, x' = (x/255 - mean) / std. They are functions so that no
// caller can change them for everyone.

// CIFAR10Mean is the CIFAR-10 training set's channel mean,
// (0.4914, 0.4822, 0.4465), as used by the official MoCo CIFAR-10 demo
// (facebookresearch/moco, colab/moco_cifar10_demo.ipynb) and most CIFAR code.
func CIFAR10Mean() [3]float32 { return [3]float32{0.4914, 0.4822, 0.4465} }

// CIFAR10Std is the std the official MoCo CIFAR-10 demo normalises with,
// (0.2023, 0.1994, 0.2010). It is the value handed down from early CIFAR
// code, not the pixel std of the training set (CIFAR10PixelStd); use it to
// reproduce the demo.
func CIFAR10Std() [3]float32 { return [3]float32{0.2023, 0.1994, 0.2010} }

// CIFAR10PixelStd is the per-channel pixel std over the whole CIFAR-10
// training set, (0.2470, 0.2435, 0.2616).
func CIFAR10PixelStd() [3]float32 { return [3]float32{0.2470, 0.2435, 0.2616} }

// ImageNetMean is the ImageNet channel mean, (0.485, 0.456, 0.406), used by
// torchvision and by the official MoCo main_moco.py.
func ImageNetMean() [3]float32 { return [3]float32{0.485, 0.456, 0.406} }

// ImageNetStd is the ImageNet channel std, (0.229, 0.224, 0.225), used by
// torchvision and by the official MoCo main_moco.py.
func ImageNetStd() [3]float32 { return [3]float32{0.229, 0.224, 0.225} }
