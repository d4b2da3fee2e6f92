using MaskInversion.Core.Inversion;
using MaskInversion.Core.Tests.Inversion;
using TorchSharp;
using static TorchSharp.torch;

namespace MaskInversion.Core.Tests.Torch;

/// <summary>
/// #14's "toFloat … Scalar.h:140": a thread forcing GCs and finalizers while tensor code runs lets the finalizer
/// thread delete a Scalar libtorch is still reading, unless every Scalar core passes is held for the call
/// (core/Torch/Scalars.cs). With AdamW's implicit Scalars this failed about once a second on the 2-core machine
/// (exactly the error, from THSTensor_add_scalar_); held, none in any run.
/// </summary>
public class ScalarLifetimeTests
{
    /// <summary>Forces full GCs and runs finalizers back to back on its own thread until disposed.</summary>
    sealed class FinalizerPressure : IDisposable
    {
        readonly CancellationTokenSource stop = new();
        readonly Thread thread;
        public int Collections { get; private set; }

        public FinalizerPressure()
        {
            thread = new Thread(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Collections++;
                }
            }) { IsBackground = true, Name = "finalizer pressure" };
            thread.Start();
        }

        public void Dispose()
        {
            stop.Cancel();
            thread.Join();
            stop.Dispose();
        }
    }

    /// <summary>Runs <paramref name="round"/> repeatedly for <paramref name="duration"/> under finalizer pressure;
    /// every round must give <paramref name="expected"/> bit for bit and no native error.</summary>
    static void UnderPressure(TimeSpan duration, float[] expected, Func<float[]> round, string what)
    {
        int rounds = 0, wrong = 0;
        var errors = new List<Exception>();
        int collections;
        using (var pressure = new FinalizerPressure())
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                rounds++;
                try { if (!round().AsSpan().SequenceEqual(expected)) wrong++; }
                catch (Exception e) when (e is System.Runtime.InteropServices.ExternalException or InvalidOperationException) { errors.Add(e); }
            }
            collections = pressure.Collections;
        }
        Assert.True(collections > 10, $"{what}: the pressure thread only collected {collections} times");
        Assert.True(errors.Count == 0, $"{what}: {errors.Count} of {rounds} rounds failed natively; first: {errors.FirstOrDefault()}");
        Assert.True(wrong == 0, $"{what}: {wrong} of {rounds} rounds gave different numbers");
    }

    [Fact]
    public void AdamWStepsSurviveConcurrentFinalization()
    {
        using var grad = torch.linspace(-1, 1, 32).reshape(4, 8);
        float[] Round()
        {
            using var scope = torch.NewDisposeScope();
            var p = torch.zeros(4, 8);
            using (var opt = new AdamW(p, 0.1, weightDecay: 0.01))
                for (int k = 0; k < 100; k++) opt.Step(p, grad);
            return p.data<float>().ToArray();
        }
        UnderPressure(TimeSpan.FromSeconds(3), Round(), Round, "AdamW");
    }

    [Theory]
    [InlineData(InversionPath.Explicit)]
    [InlineData(InversionPath.Implicit)]
    [InlineData(InversionPath.Vanilla)]
    public void InversionSurvivesConcurrentFinalization(InversionPath path)
    {
        using var model = InversionTestModels.Model(seed: 31, quickGelu: true);
        using var inverter = new MaskInverter(model.visual);
        using var pixels = InversionTestModels.Image(4);
        using var masks = InversionTestModels.Masks(3, 48, seed: 5);
        var options = new InversionOptions { Iterations = 5, LearningRate = 0.1, Alpha = 5, Path = path };
        float[] Round()
        {
            using var scope = torch.NewDisposeScope();
            using var features = inverter.Prepare(pixels);
            using var output = inverter.Invert(features, masks, options);
            return [.. output.Embeddings.data<float>().ToArray(), .. output.FinalDice.data<float>().ToArray()];
        }
        UnderPressure(TimeSpan.FromSeconds(1.5), Round(), Round, path.ToString());
    }
}
