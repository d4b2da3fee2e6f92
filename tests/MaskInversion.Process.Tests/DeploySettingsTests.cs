using System.Reflection;
using System.Text.RegularExpressions;
using MaskInversion.Silo;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace MaskInversion.Process.Tests;

/// <summary>
/// No drift between deploy/ and the silo: every setting the compose file and the Kubernetes manifests give a silo
/// (environment variables Section__Key, arguments --Section:Key=…) must name a property of the options class the
/// silo binds that section to, with a value it accepts (the silo's own strict binding, SiloConfiguration).
/// </summary>
public sealed class DeploySettingsTests
{
    static readonly string Deploy = Path.Combine(BuildOutputs.RepoRoot, "deploy");

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Deploy, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Deploy, f));
        return data;
    }

    [Fact]
    public void The_deploy_folder_has_compose_and_kubernetes_silos()
    {
        var settings = Directory.GetFiles(Deploy, "*.yaml", SearchOption.AllDirectories).SelectMany(f => SiloSettings.Read(File.ReadAllText(f))).ToList();
        // Both kinds of silo in both kinds of deployment, so the check below has something to check.
        Assert.Contains(settings, s => s.ContainsKey("Cluster:RedisConnection") && s.ContainsKey("Cluster:AdvertisedAddress"));
        Assert.Contains(settings, s => s.ContainsKey("Cluster:Kubernetes"));
        Assert.True(settings.Count >= 5, $"{settings.Count} silo configurations found");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_setting_exists_in_the_silo_options(string file)
    {
        foreach (var settings in SiloSettings.Read(File.ReadAllText(Path.Combine(Deploy, file))))
        {
            var problems = SiloSettings.Check(settings);
            Assert.True(problems.Count == 0, $"{file}: {string.Join("; ", problems)}");
        }
    }

    /// <summary>#14: a silo on Redis refuses to start without its allowed folders, so every deployed one names them,
    /// and they are the folders the deploy files mount (/data read-only, /jobs).</summary>
    [Fact]
    public void Every_production_silo_confines_jobs_to_the_mounted_folders()
    {
        var silos = Directory.GetFiles(Deploy, "*.yaml", SearchOption.AllDirectories).SelectMany(f => SiloSettings.Read(File.ReadAllText(f)))
            .Where(s => s.ContainsKey("Cluster:RedisConnection")).ToList();
        Assert.True(silos.Count >= 4, $"{silos.Count} silos on Redis found");
        foreach (var settings in silos)
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value))).Build();
            var paths = SiloConfiguration.Get<MaskInversion.Grains.PathOptions>(config);
            Assert.Null(paths.ProductionProblem());
            Assert.Equal(["/data"], paths.DatasetRoots);
            Assert.Equal(["/jobs"], paths.OutputRoots);
        }
    }

    [Fact]
    public void A_misspelt_key_or_a_bad_value_is_caught()
    {
        const string yaml = """
            services:
              silo:
                environment:
                  Cluster__RedisConection: redis:6379
                  MaskInversion__TorchThreads: four
                  Clusters__SiloPort: "1"
            """;
        var problems = SiloSettings.Check(Assert.Single(SiloSettings.Read(yaml)));
        Assert.Contains(problems, p => p.Contains("RedisConection"));
        Assert.Contains(problems, p => p.Contains("TorchThreads"));
        Assert.Contains(problems, p => p.Contains("Clusters"));
    }
}

/// <summary>The silo settings a YAML deploy file sets, one dictionary (configuration path → value) per container.</summary>
static class SiloSettings
{
    /// <summary>A placeholder for values that come from elsewhere (secrets, unset ${VAR:?…}).</summary>
    const string External = "0123456789abcdef0123456789abcdef";

    public static List<Dictionary<string, string>> Read(string yamlText)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yamlText));
        var found = new List<Dictionary<string, string>>();
        foreach (var doc in stream.Documents) Walk(doc.RootNode, found);
        return found.Where(s => s.Count > 0).ToList();
    }

    static void Walk(YamlNode node, List<Dictionary<string, string>> found)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (key, value) in map.Children)
                {
                    var name = (key as YamlScalarNode)?.Value;
                    if (name == "environment" && value is YamlMappingNode env) found.Add(FromCompose(env));
                    else if (name == "env" && value is YamlSequenceNode list) found.Add(FromKubernetes(list));
                    else Walk(value, found);
                }
                break;
            case YamlSequenceNode seq:
                foreach (var child in seq.Children) Walk(child, found);
                break;
        }
    }

    /// <summary>Compose: a map, possibly merging anchored maps with "&lt;&lt;".</summary>
    static Dictionary<string, string> FromCompose(YamlMappingNode env)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Add(YamlMappingNode map)
        {
            foreach (var (key, value) in map.Children)
            {
                var name = ((YamlScalarNode)key).Value!;
                if (name == "<<")
                {
                    if (value is YamlMappingNode merged) Add(merged);
                    else foreach (var m in ((YamlSequenceNode)value).Children.OfType<YamlMappingNode>()) Add(m);
                }
                else Include(settings, name, Interpolate(((YamlScalarNode)value).Value ?? ""));
            }
        }
        Add(env);
        return settings;
    }

    /// <summary>Kubernetes: a list of {name, value} or {name, valueFrom}.</summary>
    static Dictionary<string, string> FromKubernetes(YamlSequenceNode env)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in env.Children.OfType<YamlMappingNode>())
        {
            var name = ((YamlScalarNode)item.Children[new YamlScalarNode("name")]).Value!;
            var value = item.Children.TryGetValue(new YamlScalarNode("value"), out var v) ? ((YamlScalarNode)v).Value ?? "" : External;
            Include(settings, name, value);
        }
        return settings;
    }

    /// <summary>Configuration keys: Section__Key environment variables, and the top-level keys of ours and the
    /// framework's (Urls). Other variables (POD_IP, ORLEANS_SERVICE_ID, NVIDIA_*) are not configuration.</summary>
    static void Include(Dictionary<string, string> settings, string name, string value)
    {
        if (name.Contains("__", StringComparison.Ordinal) || SiloConfiguration.FrameworkKeys.Contains(name, StringComparer.OrdinalIgnoreCase))
            settings[name.Replace("__", ":", StringComparison.Ordinal)] = value;
    }

    /// <summary>Compose's ${VAR:-default} and ${VAR:?message}: the default, or a placeholder.</summary>
    static string Interpolate(string value) =>
        Regex.Replace(value, @"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?([-?]))([^}]*)\}", m => m.Groups[1].Value == "-" ? m.Groups[2].Value : External);

    /// <summary>What the silo would refuse or ignore: unknown sections, unknown keys, values that do not bind.</summary>
    public static List<string> Check(Dictionary<string, string> settings)
    {
        var problems = new List<string>();
        foreach (var key in settings.Keys)
        {
            var section = key.Split(':')[0];
            if (!SiloConfiguration.Sections.ContainsKey(section) && !SiloConfiguration.FrameworkKeys.Contains(section, StringComparer.OrdinalIgnoreCase))
                problems.Add($"'{key}': no section '{section}' in the silo (known: {string.Join(", ", SiloConfiguration.Sections.Keys)})");
        }
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings.Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value))).Build();
        var get = typeof(SiloConfiguration).GetMethod(nameof(SiloConfiguration.Get))!;
        foreach (var (section, type) in SiloConfiguration.Sections)
        {
            try
            {
                get.MakeGenericMethod(type).Invoke(null, [config]);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is InvalidOperationException or FormatException)
            {
                problems.Add($"section '{section}' ({type.Name}): {ex.InnerException.Message}" +
                    (ex.InnerException.InnerException is { } inner ? $" ({inner.Message})" : ""));
            }
        }
        return problems;
    }
}
