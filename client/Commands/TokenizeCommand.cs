using System.CommandLine;
using MaskInversion.Core.Text;

namespace MaskInversion.Client.Commands;

/// <summary><c>client tokenize "text"</c>: prints the token ids of a prompt, for users checking what the
/// text tower sees (truncation, unknown characters, SOT/EOT).</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var text = new Argument<string[]>("text") { Description = "One or more texts to tokenize.", Arity = ArgumentArity.OneOrMore };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "bpe_simple_vocab_16e6.txt.gz, a vocab.json, or a folder with vocab.json + merges.txt (default: the bundled MiniCLIP vocabulary).",
        };
        var context = new Option<int>("--context") { Description = "Context length (77 for CLIP).", DefaultValueFactory = _ => 77 };
        var idsOnly = new Option<bool>("--ids") { Description = "Print only the ids, space-separated, one line per text." };
        var cmd = new Command("tokenize", "Print the token ids of texts.") { text, tokenizer, context, idsOnly };
        cmd.SetAction(r =>
        {
            var path = r.GetValue(tokenizer) ?? DefaultTokenizer();
            if (path is null)
            {
                Console.Error.WriteLine("No tokenizer given and no bundled vocabulary found: pass --tokenizer <bpe_simple_vocab_16e6.txt.gz | vocab.json | folder>.");
                return 2;
            }
            var tok = ClipTokenizer.Load(path);
            foreach (var t in r.GetValue(text)!)
            {
                if (r.GetValue(idsOnly))
                {
                    var row = tok.Tokenize(t, r.GetValue(context));
                    int end = Array.IndexOf(row, (long)tok.EndOfText);
                    Console.WriteLine(string.Join(' ', row.Take(end + 1)));
                }
                else Console.Write(tok.Describe(t, r.GetValue(context)));
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>The bundled MiniCLIP vocabulary beside the executable, when present.</summary>
    static string? DefaultTokenizer() => MaskInversion.Core.Training.MiniClip.Locate();
}
