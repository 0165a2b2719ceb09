"""A small list of made-up names shared by the character-model programs."""

NAMES = """
ada alma amir anya arlo aurel bea bodhi bram cale cora dani dario delia eli elio emer esme
fara fenna finn gala gideon hana hugo ida ilan ines iva jada jonah juno kaia kian lars lena
lio lumi mara milo mira nadia nico nola oren orla pia quin rafe rhea rina sami selma tara
teo theo una uri vera vito wren yael yara zane zara zeno ilse olaf runa sven talia amara
""".split()
