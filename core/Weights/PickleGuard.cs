namespace MaskInversion.Core.Weights;

/// <summary>Refuses PyTorch pickle checkpoints before anything else is read: unpickling runs arbitrary
/// code, so this project only ever loads safetensors.</summary>
internal static class PickleGuard
{
    static readonly string[] PickleExtensions = [".bin", ".pt", ".pth", ".ckpt", ".pkl"];

    public static void ThrowIfPickle(string path)
    {
        var ext = System.IO.Path.GetExtension(path);
        if (PickleExtensions.Contains(ext, StringComparer.OrdinalIgnoreCase)) throw Refusal(path);
        Span<byte> head = stackalloc byte[9];
        int n;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
            n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        // A safetensors header is JSON right after the 8-byte length; checking it first keeps a header
        // length whose low byte happens to be 0x80 or 'P' from looking like pickle or zip.
        if (n == 9 && head[8] == (byte)'{') return;
        bool zip = n >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4;
        bool pickle = n >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5; // PROTO opcode + protocol
        if (zip || pickle) throw Refusal(path);
    }

    static CheckpointException Refusal(string path) => new(
        $"'{path}' is a PyTorch pickle checkpoint; MaskInversion.Cluster never unpickles files. Convert it to safetensors " +
        "(e.g. open_clip or `huggingface-cli download <repo> model.safetensors`, or " +
        "`python -c \"import torch, safetensors.torch as st; st.save_file(torch.load(p, weights_only=True), 'model.safetensors')\"`) " +
        "and pass that file.");
}
