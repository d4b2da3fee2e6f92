using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Torch;

/// <summary>
/// Scalars that outlive the libtorch call they are passed to.
/// <para>
/// TorchSharp 0.107 turns every number handed to a tensor op — and the <c>alpha = 1</c> its own <c>add</c>,
/// <c>add_</c>, <c>addcdiv</c> and the <c>+</c> operator pass on — into a native <c>at::Scalar</c> owned by a
/// finalizable <see cref="Scalar"/> wrapper that nothing references once its handle has been read (Scalars are not
/// tracked by dispose scopes). A GC while the thread is inside the native call lets the finalizer thread delete the
/// at::Scalar while libtorch is still reading it: "Expected false to be true … toFloat at c10/core/Scalar.h:140"
/// (the freed block's first word, overwritten by malloc, is read as the tag), or a wrong value (#14; reproduced by
/// <c>ScalarLifetimeTests</c>).
/// </para>
/// <para>
/// So core passes libtorch only Scalars it holds: the constants here (rooted for the life of the process, never
/// finalized; an at::Scalar is immutable, so any thread may share them) or per-call values made with
/// <c>ToScalar()</c> under <c>using</c>, which keeps the wrapper reachable until the call has returned.
/// <c>ScalarAuditTests</c> fails on any implicit Scalar or hidden-alpha call in core.
/// </para>
/// </summary>
public static class Scalars
{
    // int64, as TorchSharp's own literals are: valid for integer and floating tensors alike.
    public static readonly Scalar Zero = 0L.ToScalar();
    public static readonly Scalar One = 1L.ToScalar();
    public static readonly Scalar Two = 2L.ToScalar();

    /// <summary>a + b, without the hidden alpha Scalar of TorchSharp's <c>+</c> / <c>add(Tensor)</c>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a + s, without the hidden alpha Scalar of <c>add(Scalar)</c>.</summary>
    public static Tensor Plus(this Tensor a, Scalar s) => a.add(s, One);

    /// <summary>In-place a += b.</summary>
    public static Tensor Plus_(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>In-place a += s.</summary>
    public static Tensor Plus_(this Tensor a, Scalar s) => a.add_(s, One);

    /// <summary>s − t (TorchSharp's <c>Scalar − Tensor</c> adds with a hidden alpha).</summary>
    public static Tensor SubtractedFrom(this Tensor t, Scalar s) => t.neg().add_(s, One);
}
