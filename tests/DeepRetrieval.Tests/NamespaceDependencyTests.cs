using System.Reflection;
using System.Reflection.Emit;
using DeepRetrieval.Indexes;

namespace DeepRetrieval.Tests;

/// <summary>
/// The core package's areas (its top-level namespaces: Indexes, Persistence, Clustering, …) depend on each other in one
/// direction only. Dependencies are read from the compiled assembly — base types, interfaces, fields, signatures and
/// every type, method and field a method body's IL refers to — so a reference that only a comment makes does not count
/// and one hidden in a method body does.
/// </summary>
public class NamespaceDependencyTests
{
    private static readonly Assembly Core = typeof(IVectorIndex).Assembly;

    [Fact]
    public void CoreAreas_HaveNoDependencyCycle()
    {
        Dictionary<string, SortedSet<string>> graph = AreaDependencies(Core);
        List<List<string>> cycles = Cycles(graph);
        cycles.Select(c => "{" + string.Join(", ", c) + "} reach each other").Should().BeEmpty("namespaces must depend on each other in one direction only");
    }

    [Fact]
    public void TheLoopsOfIssue11_AreGone_AndTheDependenciesTheyStoodForRemain()
    {
        Dictionary<string, SortedSet<string>> graph = AreaDependencies(Core);
        graph["Persistence"].Should().NotContain("Indexes");
        graph["Clustering"].Should().NotContain("Indexes");
        graph["Quantization"].Should().NotContain("Indexes");
        // The extractor sees references that live only in method bodies: k-means assigns through the panel kernel, and
        // every index writes its payload through Persistence.
        graph["Clustering"].Should().Contain("Distances");
        graph["Indexes"].Should().Contain(["Persistence", "Quantization", "Clustering", "Transforms", "Hashing", "Distances"]);
    }

    [Fact]
    public void CycleFinder_ReportsACycle_WhenOneExists()
    {
        var graph = new Dictionary<string, SortedSet<string>>
        {
            ["A"] = ["B"],
            ["B"] = ["C"],
            ["C"] = ["A", "D"],
            ["D"] = [],
        };
        Cycles(graph).Should().ContainSingle().Which.Should().BeEquivalentTo(["A", "B", "C"]);
        graph["C"].Remove("A");
        Cycles(graph).Should().BeEmpty();
    }

    /// <summary>For each area, the other areas its types refer to.</summary>
    internal static Dictionary<string, SortedSet<string>> AreaDependencies(Assembly assembly)
    {
        var graph = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (Type type in assembly.GetTypes())
        {
            string from = AreaOf(type);
            if (!graph.TryGetValue(from, out SortedSet<string>? edges)) graph[from] = edges = new SortedSet<string>(StringComparer.Ordinal);
            foreach (Type used in ReferencedTypes(type))
            {
                if (used.Assembly != assembly) continue;
                string to = AreaOf(used);
                if (to != from) edges.Add(to);
            }
        }
        foreach (string area in graph.Values.SelectMany(v => v).ToList()) graph.TryAdd(area, []);
        return graph;
    }

    /// <summary>Strongly connected groups of more than one area (Tarjan): areas that all reach each other.</summary>
    internal static List<List<string>> Cycles(Dictionary<string, SortedSet<string>> graph)
    {
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var cycles = new List<List<string>>();
        int counter = 0;

        void Visit(string node)
        {
            index[node] = low[node] = counter++;
            stack.Push(node);
            onStack.Add(node);
            foreach (string next in graph.GetValueOrDefault(node) ?? [])
            {
                if (!index.ContainsKey(next))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next))
                {
                    low[node] = Math.Min(low[node], index[next]);
                }
            }
            if (low[node] != index[node]) return;
            var group = new List<string>();
            string member;
            do
            {
                member = stack.Pop();
                onStack.Remove(member);
                group.Add(member);
            }
            while (member != node);
            if (group.Count > 1)
            {
                group.Reverse();
                cycles.Add(group);
            }
        }

        foreach (string node in graph.Keys.Order(StringComparer.Ordinal))
            if (!index.ContainsKey(node)) Visit(node);
        return cycles;
    }

    // "DeepRetrieval.Indexes.Hnsw" → "Indexes": an area and its sub-namespaces are one node; the root namespace is "(root)".
    private static string AreaOf(Type type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        string ns = type.Namespace ?? "";
        if (ns == "DeepRetrieval" || !ns.StartsWith("DeepRetrieval.", StringComparison.Ordinal)) return "(root)";
        string rest = ns["DeepRetrieval.".Length..];
        int dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> ReferencedTypes(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || !found.Add(t)) return;
            if (t.HasElementType) Add(t.GetElementType());
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
                foreach (Type argument in t.GetGenericArguments()) Add(argument);
        }

        Add(type.BaseType);
        foreach (Type face in type.GetInterfaces()) Add(face);
        foreach (FieldInfo field in type.GetFields(Everything)) Add(field.FieldType);
        foreach (PropertyInfo property in type.GetProperties(Everything)) Add(property.PropertyType);
        foreach (MethodBase method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info) Add(info.ReturnType);
            foreach (ParameterInfo parameter in method.GetParameters()) Add(parameter.ParameterType);
            foreach (object target in BodyReferences(method))
            {
                switch (target)
                {
                    case Type t:
                        Add(t);
                        break;
                    case MethodBase m:
                        Add(m.DeclaringType);
                        if (m.IsGenericMethod) foreach (Type argument in m.GetGenericArguments()) Add(argument);
                        break;
                    case FieldInfo f:
                        Add(f.DeclaringType);
                        Add(f.FieldType);
                        break;
                }
            }
        }
        return found;
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue =
        typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);

    // Walks a method body's IL and resolves every metadata token it names (types, methods, fields).
    private static IEnumerable<object> BodyReferences(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null) yield break;
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } owner ? owner.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        for (int at = 0; at < il.Length;)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            OpCode code = OpCodesByValue[value];
            switch (code.OperandType)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    int token = BitConverter.ToInt32(il, at);
                    object? resolved = null;
                    try
                    {
                        resolved = method.Module.ResolveMember(token, typeArguments, methodArguments);
                    }
                    catch (ArgumentException)
                    {
                        // A token the runtime cannot resolve without more context; it names no DeepRetrieval type we miss elsewhere.
                    }
                    if (resolved is not null) yield return resolved;
                    at += 4;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + 4 * BitConverter.ToInt32(il, at);
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    at += 8;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                default:
                    at += 4; // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                    break;
            }
        }
    }
}
