using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Datasets;

public class CocoRleTests
{
    [Fact]
    public void SquarePolygonMatchesHandTracedFrPoly()
    {
        // Traced by hand through rleFrPoly: the boundary crosses pixel-centre columns 10…19 at y = 10 and y = 20,
        // giving counts [310, 10, 20, 10, …, 10, 310]: exactly pixels 10…19 in both axes.
        var counts = CocoRle.FromPolygon([10, 10, 20, 10, 20, 20, 10, 20], 30, 30);
        Assert.Equal(310, counts[0]);
        Assert.Equal(310, counts[^1]);
        Assert.Equal(21, counts.Length);
        var mask = CocoRle.Decode(counts, 30, 30);
        Assert.Equal(TestMasks.Rect(30, 30, 10, 10, 20, 20).Data, mask.Data);
    }

    [Fact]
    public void PolygonAgreesWithEvenOddFillExceptOnTheBorder()
    {
        double[] diamond = [20.3, 2.7, 37.1, 20.2, 19.6, 36.8, 3.4, 19.9];
        var port = CocoRle.RasterizePolygons([diamond], 40, 42);
        int differing = 0, border = 0;
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 42; x++)
            {
                bool inside = EvenOdd(diamond, x, y);
                if (inside != port[x, y])
                {
                    differing++;
                    // Every disagreement must be within a pixel of the edge.
                    bool nearEdge = EvenOdd(diamond, x - 1, y) != inside || EvenOdd(diamond, x + 1, y) != inside
                        || EvenOdd(diamond, x, y - 1) != inside || EvenOdd(diamond, x, y + 1) != inside;
                    if (nearEdge) border++;
                }
            }
        Assert.Equal(differing, border);
        Assert.InRange(port.Area, 575 - 40, 575 + 40);   // shoelace area ≈ 575; the perimeter band is ≈ 96 px
    }

    static bool EvenOdd(double[] xy, double px, double py)
    {
        bool inside = false;
        for (int i = 0, j = xy.Length / 2 - 1; i < xy.Length / 2; j = i++)
        {
            double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
            if ((yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }

    [Fact]
    public void FourNumberEntriesAreBoxesLikePycocotools()
    {
        var mask = CocoRle.RasterizePolygons([[10, 10, 10, 10]], 30, 30);
        Assert.Equal(TestMasks.Rect(30, 30, 10, 10, 20, 20).Data, mask.Data);
    }

    [Fact]
    public void UncompressedRleIsColumnMajor()
    {
        // h = 3, w = 2: pixels 1 and 2 in column-major order are (x 0, y 1) and (x 0, y 2).
        var mask = CocoRle.Decode([1, 2, 3], 3, 2);
        Assert.Equal(new byte[] { 0, 0, 1, 0, 1, 0 }, mask.Data);
        Assert.Equal([1, 2, 3], CocoRle.Encode(mask));
        Assert.Throws<FormatException>(() => CocoRle.Decode([1, 2], 3, 2));
    }

    [Theory]
    [InlineData(new[] { 5, 40 }, "5X1")]                 // 40 = 0b01000|01000: two 5-bit groups, continuation bit on the first
    [InlineData(new[] { 1, 2, 3, 1 }, "123O")]           // 4th run is stored as 1 − 2 = −1: one group 0b11111
    [InlineData(new[] { 0, 100, 0, 40 }, "0T30TN")]      // 40 − 100 = −60: groups 4 (+continuation) and 30
    public void CompressedStringsMatchHandEncodedExamples(int[] counts, string expected)
    {
        Assert.Equal(expected, CocoRle.ToCompressedString(counts));
        Assert.Equal(counts, CocoRle.FromCompressedString(expected));
    }

    [Fact]
    public void RandomMasksRoundTripThroughBothRleForms()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 20; trial++)
        {
            int w = rng.Next(1, 60), h = rng.Next(1, 60);
            var data = new byte[w * h];
            // Blobs rather than noise, to get long runs and large deltas.
            for (int k = 0; k < 4; k++)
            {
                int x0 = rng.Next(w), y0 = rng.Next(h), x1 = rng.Next(x0, w + 1), y1 = rng.Next(y0, h + 1);
                for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) data[y * w + x] ^= 1;
            }
            var mask = new BinaryMask(w, h, data);
            var counts = CocoRle.Encode(mask);
            Assert.Equal(w * h, counts.Sum());
            Assert.Equal(mask.Data, CocoRle.Decode(counts, h, w).Data);
            var s = CocoRle.ToCompressedString(counts);
            Assert.Equal(counts, CocoRle.FromCompressedString(s));
            Assert.Equal(mask.Data, MaskRasterizer.Rasterize(MaskSource.CompressedRle(s, h, w), _ => throw new InvalidOperationException()).Data);
        }
    }

    [Fact]
    public void MalformedCompressedStringIsRejected()
    {
        Assert.Throws<FormatException>(() => CocoRle.FromCompressedString("5X"));   // ends inside a value
        Assert.Throws<FormatException>(() => CocoRle.FromCompressedString("5 1"));  // ' ' is below '0'
    }
}
