"""The front end both command lines share: `az-imds` (imds_ext.cli) and the az extension (azext_imds).

It turns the domain core's results into output, its errors into messages and exit codes, and its questions
into prompts and progress. Neither command line carries a copy of any of it; the core imports none of it.
- interaction.py: prompts, progress (the host CLI's progress controller), warnings;
- output.py: resources as az prints them, and the table transformers;
- validators.py: argument validators shared by both (usage errors, exit code 2);
- errors.py: the core's errors mapped to exit codes (standalone) and az's error classes (extension);
- handlers.py: the handler steps both run (cancel at the prompt, the next command to run);
- flags.py: the help of the IMDS flags, written once.
"""
