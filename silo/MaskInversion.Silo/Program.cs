using MaskInversion.Silo;

// A MaskInversion silo. Configuration: appsettings.json (beside the executable), then environment variables
// (Cluster__*, MaskInversion__*, Recovery__*, Web__*, Paths__*, Membership__*), then command-line arguments
// (--Cluster:SiloPort=11112). See deploy/ARCHITECTURE.md and SiloConfiguration for the sections; SiloHost builds it.
WebApplication app;
try
{
    app = SiloHost.Build(args);
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine($"silo: configuration refused: {ex.Message}");
    return 2;
}

try
{
    await SiloHost.StartAsync(app);
}
catch (InvalidOperationException ex)
{
    app.Logger.LogCritical("{Refusal}", ex.Message);
    return 2;
}
await app.WaitForShutdownAsync();
return 0;
