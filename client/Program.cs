using System.CommandLine;
using System.CommandLine.Help;
using MaskInversion.Client.Commands;
using MaskInversion.Client.Jobs;

// The job commands come from the thin Jobs library and touch neither the engine nor TorchSharp; the commands that
// run tensors (demo, bench, train, eval) load the engine when they run.
var root = new RootCommand("MaskInversion.Cluster client: run MaskInversion jobs, benchmarks and tools.\n" + ExitCodes.Help);
foreach (var command in JobCommands.Create()) root.Subcommands.Add(command);
foreach (var command in ImageCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(MiniClipCommands.Train());
root.Subcommands.Add(MiniClipCommands.Eval());

var parsed = root.Parse(args);
// A usage error is one line per problem and exit code 2, not System.CommandLine's 1 (which a failed job uses).
if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine($"See '{string.Join(' ', CommandPath(parsed.CommandResult.Command))} --help'.");
    return ExitCodes.Usage;
}
try
{
    return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (CommandFailedException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return e.ExitCode;
}
catch (Exception e) when (InputErrors.Is(e))
{
    Console.Error.WriteLine($"error: {InputErrors.Message(e)}");
    return ExitCodes.Usage;
}

static IEnumerable<string> CommandPath(Command command) =>
    command.Parents.OfType<Command>().SelectMany(CommandPath).Append(command.Parents.Any() ? command.Name : "client");
