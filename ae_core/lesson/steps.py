"""The lesson's eight steps, for a student in their first week of machine learning: each step's idea, a prediction to
make before running it, and the answer with its reason. What each step runs is in ``experiments``; the tests check
that every answer here is what its experiment measures.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Prediction:
    """A question with two to four ``choices``; ``answer`` is the index of the right one, ``reason`` why."""

    question: str
    choices: tuple[str, ...]
    answer: int
    reason: str


@dataclass(frozen=True)
class Step:
    """One step: ``idea`` in Markdown; ``lab_page``, the app's page (a file under pages/) showing the same run."""

    number: int
    title: str
    idea: str
    prediction: Prediction
    lab_page: str
    lab_page_title: str


STEPS = (
    Step(
        1,
        "The data",
        "An **autoencoder** learns to copy images through a narrow middle. Its first half, the **encoder**, "
        "turns an image into a few numbers, the **code**; its second half, the **decoder**, rebuilds the image "
        "from the code alone. To copy well through so few numbers, it has to find what matters in the images.\n\n"
        "This lesson uses scikit-learn's handwritten digits: small grey images, each with a **label** saying "
        "which digit it shows. The autoencoder never sees the labels; we use them only to check what it learned.",
        Prediction(
            "To a computer, one of these images is a list of numbers. How many?",
            ("10, one per digit", "64", "784"),
            1,
            "Each image is 8 pixels high and 8 wide, and each pixel is one number, its brightness: 8 × 8 = 64. "
            "(784 = 28 × 28 is the size of MNIST's images, the larger dataset most textbooks use.)",
        ),
        "pages/data.py",
        "Data",
    ),
    Step(
        2,
        "The textbook model against PCA",
        "The textbook's first autoencoder is built from **dense layers**: each number in a layer is a weighted "
        "sum of all the numbers in the layer before. Its encoder goes from the 64 pixels to 64, then 32 numbers, "
        "then a code of 32; the decoder mirrors it (on MNIST's 784 pixels it is the textbook's 784-64-32-32). "
        "**Training** nudges the weights, pass after pass over the images (each pass is an **epoch**), to make "
        "the **reconstruction error** small: the mean squared error (**MSE**), the average over the pixels of "
        "(original − rebuilt)², measured on the validation images.\n\n"
        "We compare it with **PCA** (principal component analysis), a method from 1901 that computes the best "
        "code made of weighted sums of the pixels directly, with no training. Both get 32 numbers per image.",
        Prediction(
            "Will the textbook autoencoder rebuild the validation images with a smaller error than PCA?",
            ("Yes: a neural network beats a method from 1901", "No: PCA's error is smaller"),
            1,
            "PCA wins, by far. With 32 numbers for 64 pixels PCA keeps almost everything, and it finds the best code "
            "of weighted sums exactly, while the network has to find its weights by small steps, in 20 epochs. "
            "A neural network is not better just for being one: it has to be built for its data.",
        ),
        "pages/reconstructions.py",
        "Reconstructions",
    ),
    Step(
        3,
        "A convolutional model",
        "A **convolutional layer** looks at small patches of neighbouring pixels, 3 × 3 at a time, and uses the "
        "same weights at every place in the image, so it spots a stroke wherever the stroke is. This model's "
        "encoder has two such layers and squeezes each image into a code of only **8 numbers**. PCA gets 8 "
        "numbers too. It trains for 20 epochs.",
        Prediction(
            "With 8 numbers per image, which rebuilds the validation images with a smaller error?",
            ("PCA", "The convolutional autoencoder"),
            1,
            "The convolutional autoencoder: its error is about 60% of PCA's. PCA can only add up fixed patterns, "
            "each times one number; the network can combine and bend strokes, and looking at neighbouring pixels "
            "together suits images. This is the chapter's first real result: built for its data, an autoencoder "
            "finds a better short code than the best method of weighted sums.",
        ),
        "pages/reconstructions.py",
        "Reconstructions",
    ),
    Step(
        4,
        "The latent map",
        "Every image now has a code of 8 numbers; the space of all possible codes is called the **latent "
        "space**. We cannot draw 8 dimensions, so the lab draws a flat view of the codes (made with PCA, used "
        "here only to look), one dot per image, coloured by its label. The model was never told the labels: any "
        "grouping by colour is something it found by itself while learning to rebuild the images.",
        Prediction(
            "On the map, will images of the same digit sit together?",
            (
                "Yes, mostly in groups, with some digits overlapping",
                "No: the colours are mixed at random, since the model never saw the labels",
            ),
            0,
            "Images of the same digit look alike, so to rebuild them well the model gives them similar codes: most "
            "images' nearest codes belong to the same digit. Digits that share strokes overlap more; the result "
            "names the pair mixed up most. The flat view hides some of the separation: dots that overlap on the "
            "map can lie apart in the 8 numbers.",
        ),
        "pages/latent.py",
        "Latent space",
    ),
    Step(
        5,
        "Sampling new digits",
        "The decoder turns any code into an image, so to make new digits we can draw random codes and decode "
        "them. But which random codes? A common choice is **N(0, I)**: each of the 8 numbers drawn from a bell "
        "curve centred on 0 with a spread of 1. The other choice first measures where the training images' codes "
        "really lie (their average and spread) and draws codes from a bell curve **fitted** to them.\n\n"
        "To score the new images, a separate classifier trained on the digits, the **judge**, counts how many it "
        "recognises as a digit with more than 90% confidence.",
        Prediction(
            "Which codes decode to images that look like digits?",
            (
                "N(0, I) noise",
                "Codes from a bell curve fitted to the training codes",
                "Both alike: the decoder makes a digit from any code",
            ),
            1,
            "Nothing in training asked this autoencoder's codes to lie around 0 with a spread of 1, so N(0, I) "
            "noise lands mostly where no training code was, and the decoder, which never saw such codes, draws "
            "blurs. Codes drawn near the real ones decode to digits. A **variational autoencoder** (VAE, a preset "
            "on the Train page) is trained so that N(0, I) works.",
        ),
        "pages/generate.py",
        "Generate",
    ),
    Step(
        6,
        "Interpolation",
        "Take two images of different digits. One way from the first to the second is a **cross-fade**: mix "
        "their pixels, 90% of the first and 10% of the second, then 80% and 20%, and so on. The other way walks "
        "in a straight line from the first image's code to the second's and decodes each step. The judge of "
        "step 5 counts how many in-between images it recognises as a digit.",
        Prediction(
            "Which in-between images look like one digit rather than two laid over each other?",
            ("The cross-fade", "The walk through the codes", "Neither"),
            1,
            "Halfway through a cross-fade there are two faint digits on top of each other, which no handwritten "
            "digit looks like. The decoder only ever learned to draw single digits, so each step of the code walk "
            "comes out as one digit-like shape that turns from one digit into the other. The codes capture what "
            "digits look like, not just their pixels.",
        ),
        "pages/generate.py",
        "Generate",
    ),
    Step(
        7,
        "Four uses",
        "What is a trained autoencoder good for? Four classic uses, each against the classical way:\n"
        "- **Compression**: keep only the code, 8 bytes per image, against PCA with as many bytes.\n"
        "- **Restoration**: rebuild images spoiled by random noise, against a median filter (each pixel replaced "
        "by the middle value of its neighbours) and a blur.\n"
        "- **Classification**: tell the digit from the code, against the same classifiers on the pixels or on "
        "PCA's numbers, with only 100 labelled images to learn from.\n"
        "- **Anomaly detection**: a second model, trained without any 0s, should rebuild 0s badly, so a high "
        "error flags them. The **AUC** says how well the errors separate 0s from other digits: 1 is perfect, 0.5 "
        "is chance; we count 0.9 or more as a win.",
        Prediction(
            "At which uses will the autoencoder beat the classical way here?",
            (
                "All four",
                "Compression, restoration and anomaly detection, but not classification",
                "Only classification",
                "None",
            ),
            1,
            "The code is a good summary for rebuilding images: it compresses better than PCA, removes noise better "
            "than a filter, and rebuilds 0s it never saw badly enough to flag them. But a summary made for "
            "rebuilding is not the best input for naming the digit: with 100 labels, a classifier on the plain "
            "pixels does better, since the code was never trained to tell digits apart.",
        ),
        "pages/applications.py",
        "Applications",
    ),
    Step(
        8,
        "Your own digit",
        "Now draw a digit yourself, on the black square, with the mouse or a finger. Before the model sees it, "
        "the drawing is treated the way the dataset's digits were: cut to the box around your strokes, scaled "
        "to 8 pixels high and put in the middle of an 8 × 8 image.\n\n"
        "The model here is step 7's second one, trained **without any 0s**. Draw a 0, then another digit, and "
        "compare their errors with the **threshold** above which the model calls an image unusual.",
        Prediction(
            "What does the model receive from your drawing?",
            (
                "Every pixel of the canvas: 280 × 280 = 78,400 numbers",
                "An 8 × 8 image, 64 numbers, shrunk and centred like the dataset's digits",
                "The path of your strokes, point by point",
            ),
            1,
            "A model only takes the kind of input it was trained on: 8 × 8 images, 64 numbers. So the drawing is "
            "brought to that shape, as the scanned digits were when the dataset was made; the small image beside "
            "your drawing is exactly what the model sees. Its encoder turns those 64 numbers into 8, and the "
            "decoder rebuilds an image from those 8.",
        ),
        "pages/latent.py",
        "Latent space",
    ),
)


def step(number: int) -> Step:
    """The step numbered ``number``, 1 to len(STEPS); ValueError otherwise."""
    if not 1 <= number <= len(STEPS):
        raise ValueError(f"step must be a whole number from 1 to {len(STEPS)}; got {number}.")
    return STEPS[number - 1]
