using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Operations;

namespace MaskInversion.Core.Tests.Torch;

/// <summary>One place in the source that hands libtorch a Scalar nobody holds.</summary>
public sealed record ScalarFinding(string File, int Line, string Cause, string Code)
{
    public override string ToString() => $"{File}:{Line}: {Cause}: {Code}";
}

/// <summary>
/// Finds, in C# source, every TorchSharp call that gives libtorch a Scalar only a finalizable wrapper owns
/// (see core/Torch/Scalars.cs): implicit conversions to <c>Scalar</c> at the call site, and calls to TorchSharp
/// members that create such a Scalar themselves — found by reading TorchSharp's IL (a method that calls
/// <c>Scalar.op_Implicit</c> or <c>ToScalar</c> and never <c>Scalar.Dispose</c>, or calls such a method), so the
/// list follows the TorchSharp version in use instead of being written down once.
/// </summary>
public static class ScalarAudit
{
    static readonly Lazy<HashSet<int>> hiddenScalarMembers = new(() => HiddenScalarMembers(typeof(TorchSharp.torch).Assembly.Location));

    public static IReadOnlyList<ScalarFinding> Scan(IReadOnlyList<(string Path, string Text)> sources, out IReadOnlyList<Diagnostic> errors)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, parse, s.Path)).ToList();
        // The SDK's ImplicitUsings for a class library.
        trees.Add(CSharpSyntaxTree.ParseText(
            "global using System; global using System.Collections.Generic; global using System.IO; global using System.Linq; " +
            "global using System.Net.Http; global using System.Threading; global using System.Threading.Tasks;", parse, "GlobalUsings.cs"));
        var compilation = CSharpCompilation.Create("audited", trees, References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable));
        // Regex source generators do not run here: their partial methods lack bodies (CS8795), which binds everything else.
        errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS8795").ToList();

        var hidden = hiddenScalarMembers.Value;
        var findings = new List<ScalarFinding>();
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            var seen = new HashSet<IOperation>(ReferenceEqualityComparer.Instance);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (model.GetOperation(node) is not { } root) continue;
                foreach (var op in root.DescendantsAndSelf())
                {
                    if (!seen.Add(op)) continue;
                    string? cause = null;
                    if (op is IConversionOperation { OperatorMethod: { } conversion } c && IsTorchSharp(conversion) && conversion.ContainingType.Name == "Scalar")
                        cause = $"implicit {c.Operand.Type} → Scalar";
                    else if (Target(op) is { } target && IsTorchSharp(target) && hidden.Contains((target.ReducedFrom ?? target).OriginalDefinition.MetadataToken))
                        cause = $"{target.ContainingType.Name}.{target.Name}({string.Join(", ", target.Parameters.Select(p => p.Type.Name))}) makes a Scalar it does not hold";
                    if (cause is null) continue;
                    var code = op.Syntax.ToString().ReplaceLineEndings(" ");
                    findings.Add(new ScalarFinding(tree.FilePath, tree.GetLineSpan(op.Syntax.Span).StartLinePosition.Line + 1, cause,
                        code.Length > 100 ? code[..100] + "…" : code));
                }
            }
        }
        return findings;
    }

    static IMethodSymbol? Target(IOperation op) => op switch
    {
        IInvocationOperation i => i.TargetMethod,
        IBinaryOperation b => b.OperatorMethod,
        ICompoundAssignmentOperation a => a.OperatorMethod,
        IUnaryOperation u => u.OperatorMethod,
        IObjectCreationOperation o => o.Constructor,
        _ => null,
    };

    static bool IsTorchSharp(ISymbol s) => s.ContainingAssembly?.Name == "TorchSharp";

    static List<MetadataReference> References()
    {
        // The runtime plus everything beside the test assembly (what core references); core itself is compiled from source.
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var local = Directory.GetFiles(AppContext.BaseDirectory, "*.dll");
        return platform.Concat(local).Where(f => !Path.GetFileName(f).StartsWith("MaskInversion.", StringComparison.Ordinal))
            .DistinctBy(Path.GetFileName).Select(f => (MetadataReference)MetadataReference.CreateFromFile(f)).ToList();
    }

    /// <summary>Metadata tokens of TorchSharp methods that create a Scalar and never dispose it, directly or through
    /// another such TorchSharp method (e.g. <c>operator +(Tensor, Tensor)</c> → <c>add(Tensor)</c> → <c>add(t, 1)</c>).</summary>
    static HashSet<int> HiddenScalarMembers(string torchSharpPath)
    {
        using var pe = new PEReader(File.OpenRead(torchSharpPath));
        var md = pe.GetMetadataReader();
        var opcodes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (ushort)o.Value);
        string TypeName(TypeDefinitionHandle h) => md.GetString(md.GetTypeDefinition(h).Name);
        bool Is(MethodDefinitionHandle h, string type, Func<string, bool> name) =>
            TypeName(md.GetMethodDefinition(h).GetDeclaringType()) == type && name(md.GetString(md.GetMethodDefinition(h).Name));

        var calls = new Dictionary<MethodDefinitionHandle, List<MethodDefinitionHandle>>();
        foreach (var h in md.MethodDefinitions)
        {
            var method = md.GetMethodDefinition(h);
            if (method.RelativeVirtualAddress == 0) continue;
            var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader();
            var callees = new List<MethodDefinitionHandle>();
            while (il.RemainingBytes > 0)
            {
                ushort value = il.ReadByte();
                if (value == 0xFE) value = (ushort)(0xFE00 | il.ReadByte());
                switch (opcodes[value].OperandType)
                {
                    case OperandType.InlineNone: break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.ReadByte(); break;
                    case OperandType.InlineVar: il.ReadInt16(); break;
                    case OperandType.InlineI8 or OperandType.InlineR: il.ReadInt64(); break;
                    case OperandType.InlineSwitch: for (int n = il.ReadInt32(); n > 0; n--) il.ReadInt32(); break;
                    case OperandType.InlineMethod:
                        var callee = MetadataTokens.EntityHandle(il.ReadInt32());
                        if (callee.Kind == HandleKind.MethodSpecification) callee = md.GetMethodSpecification((MethodSpecificationHandle)callee).Method;
                        if (callee.Kind == HandleKind.MethodDefinition) callees.Add((MethodDefinitionHandle)callee);
                        break;
                    default: il.ReadInt32(); break;
                }
            }
            calls[h] = callees;
        }

        var makers = md.MethodDefinitions.Where(h => Is(h, "Scalar", n => n == "op_Implicit")
            || Is(h, "ScalarExtensionMethods", n => n.StartsWith("To", StringComparison.Ordinal) && n.EndsWith("Scalar", StringComparison.Ordinal))).ToHashSet();
        var disposers = md.MethodDefinitions.Where(h => Is(h, "Scalar", n => n == "Dispose")).ToHashSet();
        var hidden = new HashSet<MethodDefinitionHandle>();
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (h, callees) in calls)
                if (!makers.Contains(h) && !hidden.Contains(h) && !callees.Any(disposers.Contains)
                    && callees.Any(c => makers.Contains(c) || hidden.Contains(c)))
                    grew = hidden.Add(h);
        }
        return hidden.Select(h => MetadataTokens.GetToken(h)).ToHashSet();
    }
}
