using System.Security.Cryptography;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Imaging;

/// <summary>
/// <see cref="PilResize"/> and the default <see cref="Preprocessor"/> against Pillow, byte for byte. The expected
/// values were produced once with Debian 12's python3-pil 9.4.0 (the test needs no Python):
/// <code>
/// def pattern(w, h):  # the same formula as Pattern below
///     return Image.fromarray(np.array([[[(x*47 + y*113 + c*71 + ((x*y) % 13)*17) &amp; 255 for c in range(3)]
///                                       for x in range(w)] for y in range(h)], np.uint8), 'RGB')
/// np.asarray(pattern(sw, sh).resize((w, h), Image.BICUBIC)).tobytes().hex()     # or its sha256 when long
/// im = Image.open(photo).convert('RGB'); a = np.asarray(im.resize((448, 448), Image.BICUBIC))
/// (a.astype(np.float32) / np.float32(255) - OPENAI_MEAN32) / OPENAI_STD32        # ToTensor + Normalize
/// </code>
/// </summary>
public class PilResizeTests
{
    static RgbImage Pattern(int w, int h)
    {
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    px[(y * w + x) * 3 + c] = (byte)((x * 47 + y * 113 + c * 71 + (x * y % 13) * 17) & 255);
        return new RgbImage(w, h, px);
    }

    [Theory]
    // Shrink both ways (antialiased kernel, clipping of the overshoot at the pattern's hard steps).
    [InlineData(29, 17, 11, 7, "738f998f7d7f82748c93a0706f6ba0827c8785687e7d986f736e8f878b7e95846c7b8b827d88717b7a75648a7c7e82836b9b6879706f8c7d677e807b8483699a867378697c8e768176898b6c7d8c84708a669c6b857c7f946f6f6781787e8796738d777b757285986e5d7ea1a273547c8f7b798d718c73738f9a706d6ca19077706e726b92619c87738d6a47958444857d69807592837b997663b4cb65a5b885856c518f60846aa489996ca86171598cb38f85667c92747a6c7c4b88b8a28e5b87838179916a86877281867f8a8d71907b908a8569757c789e906f92827e8b947e9b838e7b957f")]
    // Enlarge both ways.
    [InlineData(7, 5, 12, 9, "003a80034a982269c53b8ff45ab7e382e345a4a406bc0633e7005aeb24805551a0006aaf1967af2c7ca7559e95788dbe8a87c972b86b799f4fa24179cc4677db6b6c845f8d4c56a25eb1fc78d1bea9f546df8b5ede37935c69a93491ce70a7f398d6a7bae944d77769e52f89b577c09d96ac7cc378afa04dcf6d469445876055c7419cf25eda8e99ea13d56847f51471f0236aa640913676c250b76090c010d04444ad21823161b63aa1667bbb04b14b35ce015c9064b88d8ba081c5794dac703d8860928228b1633391307e756f936cb089a63b65cc004f4e8ce679baa8b2f94960a67c1d679b4daf31949f15dd3753a661b35aa1f3984a88c71240a52e7b8a598a5fa29d71c27878c15b3c9074568e6dbeba4787a189357ccb7a9569ada926da003c941f792e6ecf7ad176aef534377c9a3481a1a8ff4373c6702168ae6abe559ffc19")]
    // Height only: Pillow skips the horizontal pass.
    [InlineData(29, 17, 29, 6, "6b70b86ab8869980857b83677d5faaabae4da52d7f3b82c97ac769b0b14aab4b954677786f77c28d73a95ba25ba0548a9f836c7f6b6e68529c499c969ee52ce8246b1f68b96a9a9b939a84937c6077787dbf774c77a68d8e5a97778a84699f707e6d6090968b7176a2af843a276fb69db62d3559b085988e78688c937d7267b27859a06864935a897c6f606d81907262a04ca08bd2146b478e80bc725d5e86846f629e8d84829c67b2844a7676ad62a3657c3d8a817b618576688a8796b5834665b7cd1a5ca3cc5a5478bf7d537579a04c8d7fa4906d87535fa66d877d729284766b7c7b9f68a6d3414b78bf5b1e70b7a8475e8b9c96687e916aa270aa65b0438950738e7eae7a9480478e7496818c7e6f8293a95d7e8f1d65b6854990a12f7cae4d57918b547f7a667171a99c5e9f63ae716098659a8b7d777473a1af4e85cd8c65accb5198e43684cbab707c968770836f62756587468d54678151894f9a975daa6c81aa918174919e4db66c6ea1446da542894d66ad4386d26ea4859058538f81706aa77a79a2887e6e5d9d9082686e823c66a73c89db5ea5f182c94da87e6e9ca15f746f819e90806b9b5c5da46a79796f588e74ab7f7a838485888f79937f654192c199cc1fda377e3b88cf9c987da08871907b799c80694991499b509c5aa574ab95799f8184969732a23b82539ae1a4eb2ab43c865e8d919795819c858db1659b71b88c61904b")]
    // Width only: Pillow skips the vertical pass.
    [InlineData(29, 17, 10, 17, "3282aea95c63628588898054508baaab4f6e6ba5797c71746d969daa4b77a3a594899ba68e91a29d9a967364b674847f6c798977737f7f827e83b04f8a6e757b6d5d8476678677698b7d6f918274887a6b988a7c918373a08a9168b481906c716b697d61799c73938182756376597da5768a6d80857e814e7c787d66b47563aa7260a76e5da46b48955c9790564f8b53878749bc898e744892a970a3786c688e4ca09990796d9380a0628c64a1629062997a7c66878e707c6671709baf64799c51708f86877384756277627c6ca0ab58a1836f5961978d7868788e8f786b8fa3518d8474b15f9d88799d6e828b7f82705682889297535e71837fa2507b737c6398658d835d5379788b9c4c5d608fcc6a4f67be9da74da8bc864253afc27c448fa9b0536091cadd28769584214e95dc2c74bb0d4e95bc216ecc4055a1e8247bc37b579ef0367dc4155ca3d2165dd73178a942893c59a02c78bf3b82c95ca3ee64abd48ad12297de2252a2d0a29a43b433854693a1a0e226ab4e632f6dc086d251c26b632856a697368675ad60646689838d8487548f8baf53546fa9a4807576719aa8ae4f7aa7a98b8d9f9592958fa19e8e776866788873707d787b7771838c858769a48e728c7f7196887a9d8a7b4a8f819895869b8c7eab9c8ea8958775a48e6c6c5969946f8b6f6d7a6582a8774492866fb27a5e6da97a9f71847f8285")]
    public void MatchesPillowByteForByte(int sw, int sh, int w, int h, string expectedHex)
    {
        var output = PilResize.Bicubic(Pattern(sw, sh), w, h);
        Assert.Equal((w, h), (output.Width, output.Height));
        Assert.Equal(expectedHex, Convert.ToHexStringLower(output.Pixels));
    }

    [Fact]
    public void LargeEnlargementMatchesPillow()
    {
        // 5×3 → 64×48: many output pixels per input pixel, weights from the kernel's centre and both lobes.
        var output = PilResize.Bicubic(Pattern(5, 3), 64, 48);
        Assert.Equal("f4ec904b72e95f1228867058226d4baec872319b996eb4a53d74635c3a773036", Sha256(output.Pixels));
    }

    [Theory]
    // The reference's example photos at the paper's 448 px. The palette PNG decodes exactly as PIL's convert('RGB');
    // the JPEG decoder (libjpeg-turbo in both) also agrees here, so the whole chain is checked.
    [InlineData("dress_and_flower.png", "8384785bc7e45fed829f0407d55555f01a3b8e7c13cbbde67a9114724de20032", "a267eb325384477abfd860ef4b3740f53beccaeb09a48cf2f81dbc2483208afb")]
    [InlineData("cats_and_dogs.jpg", "b28efc46b156d190547c2769a4e9787c11afbb621a7330f717c8a51fae905c02", "832fbdececfda5816b6471e26e876ec78fec8b9974daebff374c249d70099926")]
    public void ExamplePhotosMatchPillowAt448(string photo, string decodedSha, string resizedSha)
    {
        var image = ImageLoader.Load(SharedData.Examples(photo));
        Assert.Equal(decodedSha, Sha256(image.Pixels));
        Assert.Equal(resizedSha, Sha256(PilResize.Bicubic(image, 448, 448).Pixels));
    }

    [Fact]
    public void DefaultPreprocessingEqualsToTensorAndNormalizeOfThePilResize()
    {
        var pre = new Preprocessor();
        Assert.Equal(ResizeMode.Pil, pre.Resize);
        using var x = pre.ToPixels(ImageLoader.Load(SharedData.Examples("cats_and_dogs.jpg")));
        // float32 values from numpy (same single-precision operations as torchvision's ToTensor + Normalize).
        (int Y, int X, float[] Rgb)[] expected =
        [
            (0, 0, [-0.6097899675369263f, 0.018819529563188553f, -1.0820579528808594f]),
            (123, 321, [0.9668400883674622f, 1.0693633556365967f, 1.1220524311065674f]),
            (447, 447, [1.1858164072036743f, 1.039347767829895f, 1.1078323125839233f]),
        ];
        foreach (var (y, xx, rgb) in expected)
            for (int c = 0; c < 3; c++)
                Assert.Equal(rgb[c], x[0, c, y, xx].item<float>());
    }

    [Fact]
    public void FloatPathStaysWithinOneLevelOfThePilPath()
    {
        var image = ImageLoader.Load(SharedData.Examples("dress_and_flower.png"));
        var unit = new float[] { 0, 0, 0 };
        var one = new float[] { 1, 1, 1 };
        using var pil = new Preprocessor(224, unit, one).ToPixels(image);
        using var flt = new Preprocessor(224, unit, one, ResizeMode.Float).ToPixels(image);
        using var diff = (pil - flt).abs();
        // Same kernel; the float path skips the two 8-bit roundings (≤ 0.5 level each, plus the first's propagation).
        Assert.True(diff.max().item<float>() <= 2.5f / 255, $"max |Δ| = {diff.max().item<float>() * 255:F2} levels");
        Assert.True(diff.mean().item<float>() < 0.5f / 255, $"mean |Δ| = {diff.mean().item<float>() * 255:F3} levels");
    }

    [Fact]
    public void SameSizeIsACopyAndEmptyTargetsAreRefused()
    {
        var src = Pattern(9, 4);
        var same = PilResize.Bicubic(src, 9, 4);
        Assert.NotSame(src.Pixels, same.Pixels);
        Assert.Equal(src.Pixels, same.Pixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => PilResize.Bicubic(src, 0, 4));
    }

    static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
