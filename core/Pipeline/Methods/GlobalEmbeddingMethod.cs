namespace MaskInversion.Core.Pipeline.Methods;

/// <summary>The CLIP baseline: the image's own embedding for every mask (what MaskInversion starts from).</summary>
public sealed class GlobalEmbeddingMethod(string name) : RegionMethod(name)
{
    public override RegionEmbeddings Embed(RegionEngine engine, PreparedImage image, IReadOnlyList<MaskInput> masks) =>
        new(image.Features.Embedding.unsqueeze(0).expand(masks.Count, -1));
}
