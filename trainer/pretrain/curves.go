package pretrain

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"os"
)

// WriteCurves draws the training loss and the kNN accuracy against epoch,
// side by side, into a PNG.
func WriteCurves(path string, records []Record, title string) error {
	var loss, knn plotter.XYs
	for _, r := range records {
		if r.KNNTop1 != nil {
			knn = append(knn, plotter.XY{X: r.Epoch, Y: *r.KNNTop1})
		} else if r.Loss > 0 {
			loss = append(loss, plotter.XY{X: r.Epoch, Y: r.Loss})
		}
	}
	lp := plot.New()
	lp.Title.Text = title + ": training loss"
	lp.X.Label.Text, lp.Y.Label.Text = "epoch", "loss"
	if len(loss) > 0 {
		l, err := plotter.NewLine(loss)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
		lp.Add(l, plotter.NewGrid())
	}
	kp := plot.New()
	kp.Title.Text = "kNN top-1 (k=200, T=0.1)"
	kp.X.Label.Text, kp.Y.Label.Text = "epoch", "accuracy (%)"
	if len(knn) > 0 {
		l, p, err := plotter.NewLinePoints(knn)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 214, G: 39, B: 40, A: 255}
		p.Color = l.Color
		kp.Add(l, p, plotter.NewGrid())
	}
	const w, h = 10 * vg.Inch, 4 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2}
	plots := [][]*plot.Plot{{lp, kp}}
	canvases := plot.Align(plots, tiles, dc)
	lp.Draw(canvases[0][0])
	kp.Draw(canvases[0][1])
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write curves: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write curves %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
