package imaging

// ImageNet's normalisation, as torchvision's classification models use it.
var (
	ImageNetMean = [3]float32{0.485, 0.456, 0.406}
	ImageNetStd  = [3]float32{0.229, 0.224, 0.225}
)

// ToTensor writes the image into dst as a CHW float32 tensor, as
// torchvision's ToTensor (values / 255) followed by Normalize(mean, std)
// computes it in float32. mean and std may be nil (no normalisation) or
// hold one value per channel (or a single value for all). dst must hold
// C*H*W values.
func (m *Image) ToTensor(dst []float32, mean, std []float32) {
	plane := m.W * m.H
	c := m.C
	for ch := 0; ch < c; ch++ {
		var mu, sd float32 = 0, 1
		norm := len(mean) > 0
		if norm {
			mu, sd = mean[min(ch, len(mean)-1)], std[min(ch, len(std)-1)]
		}
		var lut [256]float32
		for v := range lut {
			x := float32(v) / 255
			if norm {
				x = (x - mu) / sd
			}
			lut[v] = x
		}
		out := dst[ch*plane : (ch+1)*plane]
		for i := range out {
			out[i] = lut[m.Pix[i*c+ch]]
		}
	}
}
