using MaskInversion.Core.Datasets;
using MaskInversion.Core.Imaging;

namespace MaskInversion.Core.Tests.Datasets;

public class PathPolicyTests
{
    /// <summary>root/ (allowed) with data/a.txt, a link to a folder outside, a link to a file outside, a link inside;
    /// outside/ with secret.txt.</summary>
    sealed class Layout : IDisposable
    {
        readonly TempDir dir = new();
        public string Root => dir.File("root");
        public string Outside => dir.File("outside");
        public PathPolicy Policy { get; }

        public Layout()
        {
            Directory.CreateDirectory(Path.Combine(Root, "data"));
            Directory.CreateDirectory(Outside);
            File.WriteAllText(Path.Combine(Root, "data", "a.txt"), "a");
            File.WriteAllText(Path.Combine(Outside, "secret.txt"), "s");
            Directory.CreateSymbolicLink(Path.Combine(Root, "out-dir"), Outside);
            File.CreateSymbolicLink(Path.Combine(Root, "data", "out-file"), Path.Combine(Outside, "secret.txt"));
            Directory.CreateSymbolicLink(Path.Combine(Root, "in-dir"), "data");          // relative, stays inside
            Directory.CreateSymbolicLink(Path.Combine(Root, "loop"), Path.Combine(Root, "loop"));
            Policy = new PathPolicy([Root]);
        }

        public void Dispose() => dir.Dispose();
    }

    [Fact]
    public void AllowsPathsUnderTheRootsAndResolvesLinksInside()
    {
        using var l = new Layout();
        Assert.Equal(Path.Combine(l.Root, "data", "a.txt"), l.Policy.Resolve(Path.Combine(l.Root, "data", "a.txt")));
        Assert.Equal(Path.Combine(l.Root, "data", "a.txt"), l.Policy.Resolve("in-dir/a.txt", l.Root));
        Assert.Equal(Path.Combine(l.Root, "data", "a.txt"), l.Policy.Resolve("../data/./a.txt", Path.Combine(l.Root, "data")));
        Assert.Equal(l.Root, l.Policy.Resolve(l.Root));
        // A file that does not exist yet is still judged by where it would be.
        Assert.Equal(Path.Combine(l.Root, "data", "new.png"), l.Policy.Resolve("data/new.png", l.Root));
    }

    [Theory]
    [InlineData("../outside/secret.txt")]          // .. out of the root
    [InlineData("data/../../outside/secret.txt")]
    [InlineData("out-dir/secret.txt")]             // a folder link out of the root
    [InlineData("data/out-file")]                  // a file link out of the root
    [InlineData("/etc/hostname")]                  // absolute
    [InlineData("/etc/shadow")]
    public void RefusesEveryWayOut(string path)
    {
        using var l = new Layout();
        var e = Assert.Throws<PathNotAllowedException>(() => l.Policy.Resolve(path, l.Root, "image"));
        Assert.IsAssignableFrom<ItemDataException>(e);
        Assert.Contains($"'{path}'", e.Message);
        Assert.False(l.Policy.Allows(path, l.Root));
    }

    [Fact]
    public void ARefusalSaysTheSameWhetherTheFileExistsOrNot()
    {
        using var l = new Layout();
        string Message(string p) => Assert.Throws<PathNotAllowedException>(() => l.Policy.Resolve(p, what: "classes file")).Message.Replace(p, "<p>");
        var existing = Path.Combine(l.Outside, "secret.txt");
        var missing = Path.Combine(l.Outside, "no-such-file.txt");
        Assert.Equal(Message(existing), Message(missing));
        Assert.DoesNotContain("exist", Message(existing));
    }

    [Fact]
    public void ASiblingWithTheRootAsPrefixIsOutside()
    {
        using var l = new Layout();
        Directory.CreateDirectory(l.Root + "-evil");
        Assert.False(l.Policy.Allows(Path.Combine(l.Root + "-evil", "x")));
    }

    [Fact]
    public void LinkLoopsAreRefusedNotFollowedForever()
    {
        using var l = new Layout();
        Assert.Throws<PathNotAllowedException>(() => l.Policy.Resolve("loop/x", l.Root));
    }

    [Fact]
    public void OutputFoldersMustBeAbsoluteAndInsideButMayNotExistYet()
    {
        using var l = new Layout();
        Assert.Equal(Path.Combine(l.Root, "jobs", "j1"), l.Policy.ResolveOutputFolder(Path.Combine(l.Root, "jobs", "j1")));
        Assert.Throws<PathNotAllowedException>(() => l.Policy.ResolveOutputFolder("jobs/j1"));
        Assert.Throws<PathNotAllowedException>(() => l.Policy.ResolveOutputFolder(Path.Combine(l.Root, "out-dir", "j1")));
        Assert.Throws<PathNotAllowedException>(() => l.Policy.ResolveOutputFolder("/tmp"));
    }

    [Fact]
    public void UnrestrictedAllowsEverythingAndRootsMustBeAbsolute()
    {
        Assert.True(PathPolicy.Unrestricted.Allows("/etc/hostname"));
        Assert.Throws<ArgumentException>(() => new PathPolicy(["relative/root"]));
        Assert.Throws<ArgumentException>(() => new PathPolicy([]));
    }

    [Fact]
    public void ItemErrorsAreToldApartFromEverythingElse()
    {
        Assert.True(ItemDataException.IsAboutItem(new ImageLoadException("x.png", "corrupt")));
        Assert.True(ItemDataException.IsAboutItem(new PathNotAllowedException("x", "outside")));
        Assert.True(ItemDataException.IsAboutItem(new AggregateException(new ItemDataException("m", "empty"))));
        Assert.False(ItemDataException.IsAboutItem(new AggregateException(new ItemDataException("m", "empty"), new IOException("disk"))));
        Assert.False(ItemDataException.IsAboutItem(new System.Runtime.InteropServices.ExternalException("toFloat … Scalar.h:140")));
        Assert.False(ItemDataException.IsAboutItem(new OutOfMemoryException()));
        Assert.False(ItemDataException.IsAboutItem(new IOException("Input/output error")));
    }
}
