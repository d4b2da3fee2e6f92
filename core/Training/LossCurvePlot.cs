using SkiaSharp;

namespace MaskInversion.Core.Training;

/// <summary>Draws the training loss (raw in light grey, a running mean in blue) and the held-out accuracy
/// (orange, right axis 0–100 %) as a PNG, so a run can be judged without a plotting tool.</summary>
public static class LossCurvePlot
{
    public static void Save(string path, IReadOnlyList<(int Step, double Loss)> losses, IReadOnlyList<(int Step, double Acc)> accuracies,
        int width = 900, int height = 420)
    {
        using var bitmap = new SKBitmap(width, height);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        const float left = 60, right = 60, top = 30, bottom = 40;
        float plotW = width - left - right, plotH = height - top - bottom;
        using var axis = new SKPaint { Color = SKColors.Black, StrokeWidth = 1, IsAntialias = true, Style = SKPaintStyle.Stroke };
        using var grid = new SKPaint { Color = new SKColor(230, 230, 230), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var font = new SKFont(SKTypeface.Default, 12);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        canvas.DrawRect(left, top, plotW, plotH, axis);
        if (losses.Count > 0)
        {
            int maxStep = Math.Max(1, losses[^1].Step);
            double maxLoss = Math.Max(1e-6, losses.Max(l => l.Loss)), minLoss = Math.Min(0, losses.Min(l => l.Loss));
            float X(double step) => left + (float)(step / maxStep) * plotW;
            float Y(double loss) => top + plotH - (float)((loss - minLoss) / (maxLoss - minLoss)) * plotH;
            for (int i = 0; i <= 4; i++)
            {
                double v = minLoss + (maxLoss - minLoss) * i / 4;
                canvas.DrawLine(left, Y(v), left + plotW, Y(v), grid);
                canvas.DrawText(v.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), 8, Y(v) + 4, SKTextAlign.Left, font, ink);
            }
            canvas.DrawText($"step (0–{maxStep})", left + plotW / 2 - 40, height - 12, SKTextAlign.Left, font, ink);
            canvas.DrawText("loss (grey: per step, blue: mean of 25)   orange: held-out zero-shot acc@1 (right, 0–100 %)", left, 18, SKTextAlign.Left, font, ink);

            Polyline(canvas, losses.Select(l => new SKPoint(X(l.Step), Y(l.Loss))), new SKColor(190, 190, 190));
            var smooth = new List<SKPoint>();
            for (int i = 0; i < losses.Count; i++)
            {
                int from = Math.Max(0, i - 24);
                double mean = 0;
                for (int j = from; j <= i; j++) mean += losses[j].Loss;
                smooth.Add(new SKPoint(X(losses[i].Step), Y(mean / (i - from + 1))));
            }
            Polyline(canvas, smooth, new SKColor(30, 90, 200), 2);
            if (accuracies.Count > 0)
            {
                float YAcc(double a) => top + plotH - (float)a * plotH;
                Polyline(canvas, accuracies.Select(a => new SKPoint(X(a.Step), YAcc(a.Acc))), new SKColor(240, 130, 20), 2);
                for (int i = 0; i <= 4; i++)
                    canvas.DrawText($"{25 * i}%", left + plotW + 6, YAcc(i / 4.0) + 4, SKTextAlign.Left, font, ink);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    static void Polyline(SKCanvas canvas, IEnumerable<SKPoint> points, SKColor colour, float strokeWidth = 1)
    {
        using var paint = new SKPaint { Color = colour, StrokeWidth = strokeWidth, IsAntialias = true, Style = SKPaintStyle.Stroke };
        canvas.DrawPoints(SKPointMode.Polygon, points.ToArray(), paint);
    }
}
