using TorchSharp;
using static TorchSharp.torch;

namespace DeepRetrieval.Torch.Extraction;

// The training flag of a module and of each descendant, so a mixed state (e.g. batch norm frozen in eval inside a training
// backbone) comes back exactly: restoring the root alone would overwrite every child with the root's flag.
internal sealed class ModuleModes
{
    private readonly List<(nn.Module Module, bool Training)> _modes;

    private ModuleModes(List<(nn.Module, bool)> modes) => _modes = modes;

    public static ModuleModes Capture(nn.Module root)
    {
        var modes = new List<(nn.Module, bool)> { (root, root.training) };
        // Ancestors before descendants: train(bool) recurses, so each module's own flag must be set after its parents'.
        foreach (var (name, module) in root.named_modules().OrderBy(m => m.name.Count(c => c == '.')))
        {
            if (!ReferenceEquals(module, root))
                modes.Add((module, module.training));
        }
        return new ModuleModes(modes);
    }

    public void Restore()
    {
        foreach (var (module, training) in _modes)
            module.train(training);
    }
}
