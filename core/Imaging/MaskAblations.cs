namespace MaskInversion.Core.Imaging;

/// <summary>Mask-quality ablations of the paper: how much does the method depend on a precise mask?</summary>
public enum MaskAblation { None, Box, Erode, Dilate }

/// <summary>Shape of the morphological neighbourhood of radius r.</summary>
public enum StructuringElement
{
    /// <summary>All offsets with dx² + dy² ≤ r² (isotropic).</summary>
    Disk,
    /// <summary>All offsets with |dx|, |dy| ≤ r, i.e. a (2r+1)² square.</summary>
    Square,
}

/// <summary>
/// Box, erosion and dilation of binary masks in O(pixels) whatever the radius: the disk via an exact Euclidean
/// distance transform, the square via separable sliding-window counts. Pixels beyond the image border count as
/// neither inside nor outside, so erosion does not eat a mask from the frame edge (a full mask stays full).
/// </summary>
public static class MaskAblations
{
    public static BinaryMask Apply(BinaryMask mask, MaskAblation ablation) => ablation switch
    {
        MaskAblation.None => new BinaryMask(mask.Width, mask.Height, (byte[])mask.Data.Clone()),
        MaskAblation.Box => Box(mask),
        MaskAblation.Erode => Erode(mask, DefaultRadius(mask)),
        MaskAblation.Dilate => Dilate(mask, DefaultRadius(mask)),
        _ => throw new ArgumentOutOfRangeException(nameof(ablation), ablation, null),
    };

    /// <summary>5% of the longer side of the mask's bounding box, at least 1; 0 for an empty mask.</summary>
    public static int DefaultRadius(BinaryMask mask)
    {
        if (mask.BoundingBox() is not { } b) return 0;
        return Math.Max(1, (int)Math.Round(0.05 * Math.Max(b.X1 - b.X0, b.Y1 - b.Y0)));
    }

    /// <summary>The mask's filled bounding box (empty stays empty).</summary>
    public static BinaryMask Box(BinaryMask mask)
    {
        var result = BinaryMask.Empty(mask.Width, mask.Height);
        if (mask.BoundingBox() is not { } b) return result;
        for (int y = b.Y0; y < b.Y1; y++) Array.Fill(result.Data, (byte)1, y * mask.Width + b.X0, b.X1 - b.X0);
        return result;
    }

    public static BinaryMask Dilate(BinaryMask mask, int radius, StructuringElement element = StructuringElement.Disk)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (radius == 0) return Apply(mask, MaskAblation.None);
        var data = element == StructuringElement.Disk
            ? WithinDistance(mask.Data, mask.Width, mask.Height, 1, radius)
            : SquareAny(mask.Data, mask.Width, mask.Height, 1, radius);
        return new BinaryMask(mask.Width, mask.Height, data);
    }

    public static BinaryMask Erode(BinaryMask mask, int radius, StructuringElement element = StructuringElement.Disk)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        if (radius == 0) return Apply(mask, MaskAblation.None);
        // Erosion = what is not within reach of the background (inside the image).
        var nearBackground = element == StructuringElement.Disk
            ? WithinDistance(mask.Data, mask.Width, mask.Height, 0, radius)
            : SquareAny(mask.Data, mask.Width, mask.Height, 0, radius);
        var data = new byte[nearBackground.Length];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(1 - nearBackground[i]);
        return new BinaryMask(mask.Width, mask.Height, data);
    }

    /// <summary>1 where some pixel with value <paramref name="target"/> lies within Euclidean distance r.</summary>
    static byte[] WithinDistance(byte[] data, int w, int h, byte target, int r)
    {
        // With no target pixel every distance is "far", which a huge radius would still reach.
        if (Array.IndexOf(data, target) < 0) return new byte[data.Length];
        var d2 = SquaredDistanceTo(data, w, h, target);
        var result = new byte[data.Length];
        double limit = (double)r * r;
        for (int i = 0; i < result.Length; i++) result[i] = d2[i] <= limit ? (byte)1 : (byte)0;
        return result;
    }

    /// <summary>Exact squared Euclidean distance to the nearest pixel equal to target (Felzenszwalb–Huttenlocher).</summary>
    static double[] SquaredDistanceTo(byte[] data, int w, int h, byte target)
    {
        // "No such pixel in this column": above any real squared distance, yet small enough that the
        // parabola intersections stay exact in double precision (∞ would give ∞ − ∞).
        double far = (double)w * w + (double)h * h + 1;
        var d = new double[data.Length];
        for (int i = 0; i < d.Length; i++) d[i] = data[i] == target ? 0 : far;
        int n = Math.Max(w, h);
        var f = new double[n];
        var outp = new double[n];
        var v = new int[n];
        var z = new double[n + 1];
        for (int x = 0; x < w; x++) // columns
        {
            for (int y = 0; y < h; y++) f[y] = d[y * w + x];
            Transform1D(f, outp, h, v, z);
            for (int y = 0; y < h; y++) d[y * w + x] = outp[y];
        }
        for (int y = 0; y < h; y++) // rows
        {
            Array.Copy(d, y * w, f, 0, w);
            Transform1D(f, outp, w, v, z);
            Array.Copy(outp, 0, d, y * w, w);
        }
        return d;
    }

    /// <summary>Lower envelope of parabolas: d[q] = min_p (q − p)² + f[p].</summary>
    static void Transform1D(double[] f, double[] d, int n, int[] v, double[] z)
    {
        int k = 0;
        v[0] = 0; z[0] = double.NegativeInfinity; z[1] = double.PositiveInfinity;
        for (int q = 1; q < n; q++)
        {
            double s = Intersection(f, q, v[k]);
            while (s <= z[k]) { k--; s = Intersection(f, q, v[k]); } // z[0] = −∞ stops this at k = 0
            k++;
            v[k] = q; z[k] = s; z[k + 1] = double.PositiveInfinity;
        }
        k = 0;
        for (int q = 0; q < n; q++)
        {
            while (z[k + 1] < q) k++;
            double dq = q - v[k];
            d[q] = dq * dq + f[v[k]];
        }
    }

    static double Intersection(double[] f, int q, int p) => (f[q] + (double)q * q - (f[p] + (double)p * p)) / (2.0 * (q - p));

    /// <summary>1 where the (2r+1)² square around the pixel (clipped to the image) contains a target pixel.</summary>
    static byte[] SquareAny(byte[] data, int w, int h, byte target, int r)
    {
        var hits = new byte[data.Length];
        for (int i = 0; i < hits.Length; i++) hits[i] = data[i] == target ? (byte)1 : (byte)0;
        var rows = new byte[data.Length];
        var prefix = new int[Math.Max(w, h) + 1];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++) prefix[x + 1] = prefix[x] + hits[y * w + x];
            for (int x = 0; x < w; x++)
                rows[y * w + x] = prefix[Math.Min(w, x + r + 1)] - prefix[Math.Max(0, x - r)] > 0 ? (byte)1 : (byte)0;
        }
        var result = new byte[data.Length];
        for (int x = 0; x < w; x++)
        {
            for (int y = 0; y < h; y++) prefix[y + 1] = prefix[y] + rows[y * w + x];
            for (int y = 0; y < h; y++)
                result[y * w + x] = prefix[Math.Min(h, y + r + 1)] - prefix[Math.Max(0, y - r)] > 0 ? (byte)1 : (byte)0;
        }
        return result;
    }
}
