using Microsoft.Extensions.Configuration;
using StorageCloud.Common.Configuration;

namespace StorageCloud.Common.Tests.Configuration;

/// <summary>Options declared once: typed reads with ranges, unknown keys refused, sections merged, docs tables generated.</summary>
public sealed class OptionCatalogTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    private static (OptionCatalog Catalog, Int32Option Port, ListOption Users, ChoiceOption Level, BoolOption On) Sample()
    {
        var server = new OptionSection("Server");
        var port = server.Int32("Port", 8080, 1, 65535, "the port", "--port");
        var on = server.Bool("On", true, "switch");
        var more = new OptionSection("Server");
        var users = more.List("Users", ["a", "b"], "people", defaultNote: "two people");
        var level = new OptionSection("Logging").Choice("Level", "info", ["debug", "info"], "how much");
        var extra = new Int32Option("Server", "ExtraPort", 9, 1, 65535, "a service's own port") { CommandLine = "--extra-port" };
        var logging = new OptionSection("Logging");
        return (new OptionCatalog([server, more, logging], [extra]), port, users, level, on);
    }

    [Fact]
    public void Values_are_read_typed_with_defaults_and_bad_ones_name_the_option()
    {
        var (_, port, users, level, on) = Sample();
        Assert.Equal(8080, port.Read(Config()));
        Assert.Equal(81, port.Read(Config(("Server:Port", " 81 "))));
        Assert.Equal(["x", "y"], users.Read(Config(("Server:Users", "x, y"))));
        Assert.Equal(["j1", "j2"], users.Read(Config(("Server:Users:0", "j1"), ("Server:Users:1", "j2"))));
        Assert.Equal("debug", level.Read(Config(("Logging:Level", "DEBUG"))));
        Assert.False(on.Read(Config(("Server:On", "off"))));
        var bad = Assert.Throws<ConfigurationException>(() => port.Read(Config(("Server:Port", "70000"))));
        Assert.Equal("invalid configuration: Server:Port: must be an integer from 1 to 65535 (got '70000')", bad.Message);
        Assert.Contains("must be one of debug, info", Assert.Throws<ConfigurationException>(() => level.Read(Config(("Logging:Level", "loud")))).Message);
        Assert.Contains("true or false", Assert.Throws<ConfigurationException>(() => on.Read(Config(("Server:On", "maybe")))).Message);
    }

    [Fact]
    public void The_catalog_merges_sections_refuses_unknown_keys_and_checks_every_value()
    {
        var (catalog, _, _, _, _) = Sample();
        Assert.Equal(["Server", "Logging"], catalog.Sections);
        Assert.Equal(["Port", "On", "Users", "ExtraPort"], catalog.OptionsOf("Server").Select(o => o.Name));
        Assert.Equal(["--port", "--extra-port"], catalog.CommandLine.Select(o => o.CommandLine));
        catalog.Check(Config(("Server:Port", "1"), ("Logging:LogLevel:Microsoft", "Warning")));
        Assert.Contains("unknown section 'Sever'", Assert.Throws<ConfigurationException>(() => catalog.Check(Config(("Sever:Port", "1")))).Message);
        Assert.Contains("unknown option", Assert.Throws<ConfigurationException>(() => catalog.Check(Config(("Server:Prot", "1")))).Message);
        Assert.Contains("Server:ExtraPort", Assert.Throws<ConfigurationException>(() => catalog.Check(Config(("Server:ExtraPort", "0")))).Message);
        Assert.Throws<InvalidOperationException>(() => new OptionCatalog([new OptionSection("A"), new OptionSection("A")],
            [new Int32Option("A", "X", 1, 0, 2, "x"), new Int32Option("A", "X", 1, 0, 2, "x")]));
    }

    [Fact]
    public void The_docs_table_shows_defaults_aliases_and_help()
    {
        var (catalog, _, _, _, _) = Sample();
        Assert.Equal("""
            | option | default | command line | meaning |
            |---|---|---|---|
            | `Server:Port` | `8080` | `--port` | the port |
            | `Server:On` | `true` |  | switch |
            | `Server:Users` | two people |  | people |
            | `Server:ExtraPort` | `9` | `--extra-port` | a service's own port |

            """.ReplaceLineEndings("\n"), catalog.MarkdownTable("Server"));
        Assert.StartsWith("| option | default | meaning |", catalog.MarkdownTable("Logging"));
    }
}
