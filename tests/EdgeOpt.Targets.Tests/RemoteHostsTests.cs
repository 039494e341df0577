using EdgeOpt.Targets;

namespace EdgeOpt.Targets.Tests;

public class RemoteHostsTests
{
    private static IReadOnlyList<RemoteHost> Read(string text)
    {
        var dir = Directory.CreateTempSubdirectory("edgeopt-hosts-");
        try
        {
            var path = Path.Combine(dir.FullName, "hosts.yaml");
            File.WriteAllText(path, text);
            return RemoteRunner.ReadHosts(path);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void Valid_DefaultsAndRelativeKeyPaths()
    {
        var hosts = Read("- name: pi4\n  host: pi@10.0.0.4\n- { name: orin, host: nvidia@10.0.0.9, port: 2222, identity: keys/orin }\n");

        Assert.That(hosts[0], Is.EqualTo(new RemoteHost("pi4", "pi@10.0.0.4")));
        Assert.That((hosts[1].Port, Path.GetFileName(hosts[1].Identity)), Is.EqualTo((2222, "orin")));
        Assert.That(Path.IsPathRooted(hosts[1].Identity), Is.True, "relative to the hosts file");
    }

    [TestCase("- name: a\n  host: x\n  user: pi\n", ":3:3: unknown key 'user'")]
    [TestCase("- name: a\n  host: x\n  port: 70000\n", ":3:9: port 70000 is not in 1..65535")]
    [TestCase("- name: a b\n  host: x\n", ":1:9: name 'a b' must be letters")]
    [TestCase("- name: a\n  host: x\n- name: a\n  host: y\n", ":3:9: name 'a' is used twice")]
    [TestCase("- name: a\n", ":1:3: 'host' is missing")]
    [TestCase("name: a\nhost: x\n", ":1:1: a hosts file is a list of boards")]
    public void Bad_ErrorNamesTheLine(string text, string expected) =>
        Assert.That(() => Read(text), Throws.TypeOf<RemoteHostsException>().With.Message.Contains(expected));
}
