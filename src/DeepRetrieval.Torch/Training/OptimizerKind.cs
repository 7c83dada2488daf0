namespace DeepRetrieval.Torch.Training;

/// <summary>The base optimiser of a training run (TorchSharp's implementations).</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.</summary>
    Sgd,

    /// <summary>Adam (Kingma and Ba 2015) with L2 weight decay added to the gradient.</summary>
    Adam,

    /// <summary>AdamW (Loshchilov and Hutter 2019): Adam with decoupled weight decay.</summary>
    AdamW,
}
