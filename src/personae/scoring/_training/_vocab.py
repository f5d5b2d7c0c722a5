"""Vocabulary shared by the attribute families: names, places, reply openers, fillers and small talk.

First names avoid ordinary English words, colours, foods and place names, so that a name never looks like
an attribute value.
"""

from __future__ import annotations

from ._core import lines


def _unique(words: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w.strip() for w in words.split(",") if w.strip()))


FEMALE_NAMES = _unique(
    "Ada, Adaeze, Agnieszka, Aiko, Aisha, Akosua, Alejandra, Amara, Amelia, Ana, Anika, Anja, Annika, "
    "Antonia, Anya, Aoife, Astrid, Ayesha, Beatriz, Beatrix, Bettina, Bianca, Birgit, Bronwen, Camila, "
    "Catalina, Chiara, Chinwe, Chloe, Clara, Constance, Dagny, Daniela, Deepa, Delphine, Divya, Dolores, "
    "Dorota, Edith, Efua, Eleanor, Elena, Elif, Eliza, Elodie, Emma, Esther, Eun-ji, Eva, Farah, Fatima, "
    "Fiona, Freya, Gabriela, Gita, Greta, Hana, Hannah, Harriet, Helga, Henrietta, Hina, Imogen, Ines, "
    "Ingrid, Isabel, Ivana, Jana, Joanna, Josephine, Julia, Kamala, Karin, Katarzyna, Keiko, Kemi, Laila, "
    "Lakshmi, Leila, Lena, Leonor, Liesel, Lucy, Maeve, Magdalena, Malika, Mareike, Margot, Maria, Marisol, "
    "Marta, Matilda, Mei, Mina, Miriam, Nadia, Naledi, Nanami, Natalia, Neha, Niamh, Nkechi, Noor, Oksana, "
    "Olga, Ottilie, Paloma, Priya, Rania, Rebecca, Renata, Rosalind, Ruth, Saanvi, Sabine, Saoirse, Salma, "
    "Samira, Sana, Sara, Seo-yeon, Shirin, Sigrid, Simone, Siobhan, Sofia, Soraya, Svetlana, Tamar, Tanvi, "
    "Thandiwe, Thea, Tomoko, Ursula, Valentina, Vera, Wanjiru, Wiebke, Xiu, Yara, Yasmin, Yuki, Yusra, "
    "Zainab, Zanele, Zofia, Zuzana, Agathe, Brigitta, Dunja, Eszter, Folake, Gwen, Halima, Ilse, Jovana, "
    "Kalinda, Lorna, Marguerite, Nomvula, Orla, Petra, Rukmini, Solveig, Teresa, Ulrike, Wilhelmina"
)

MALE_NAMES = _unique(
    "Abdul, Adebayo, Aditya, Ahmed, Akira, Aleksander, Alessandro, Alfonso, Alistair, Amir, Anders, Andres, "
    "Anton, Arjun, Arturo, Asher, Bartosz, Benedikt, Bjorn, Bongani, Bruno, Callum, Cedric, Chidi, Cillian, "
    "Cormac, Dai, Daniel, Dariusz, Declan, Desmond, Diego, Dmitri, Duncan, Eamon, Emeka, Emil, Enzo, Erik, "
    "Esteban, Ewan, Ezra, Farid, Felipe, Felix, Fergus, Finn, Florian, Gareth, Gustavo, Hamid, Hamish, "
    "Haruto, Hassan, Henrik, Hiroshi, Hugo, Ibrahim, Idris, Ignacio, Ilya, Imran, Isaac, Ivan, Jakub, Jamal, "
    "Javier, Jens, Jian, Joaquin, Jonas, Jun, Kaito, Kamal, Karim, Kasper, Kenji, Kofi, Kwame, Lachlan, Lars, "
    "Laszlo, Leon, Lorenzo, Luca, Lukas, Magnus, Mahmoud, Malik, Marco, Mateo, Matthias, Mehmet, Mikhail, "
    "Min-jun, Mohammed, Niels, Nikhil, Nikolai, Nnamdi, Obinna, Olusegun, Omar, Oren, Oskar, Owain, Pablo, "
    "Pavel, Pedro, Piotr, Rafael, Rahul, Ravi, Reza, Rhys, Rohan, Ronan, Ruben, Rui, Ryota, Samir, Seamus, "
    "Sebastian, Sergei, Shota, Siddharth, Sipho, Stefan, Sven, Tadhg, Takumi, Tariq, Teodor, Thabo, Theo, "
    "Tobias, Tomas, Tunde, Umar, Vikram, Viktor, Vusi, Wei, Wojciech, Xavier, Yannick, Yaw, Yusuf, Zoltan, "
    "Augustin, Bertrand, Caspar, Dragan, Eero, Fintan, Gunnar, Hector, Ignatius, Jerzy, Kirill, Leopold, "
    "Mustafa, Nasser, Osman, Quentin, Radu, Soren, Thaddeus, Ulrich, Vaclav, Wolfgang"
)

LAST_NAMES = _unique(
    "Abara, Adeyemi, Agarwal, Ahn, Akhtar, Alvarez, Amundsen, Andersson, Antonelli, Araujo, Asante, Bakshi, "
    "Balogun, Banerjee, Barros, Bauer, Bergstrom, Bianchi, Bondarenko, Borges, Brennan, Castellanos, Castillo, "
    "Cerny, Chakraborty, Chen, Chowdhury, Ciobanu, Costa, Cruz, Dahl, Delacroix, Demir, Dimitrov, Dlamini, "
    "Doherty, Dubois, Duarte, Eriksen, Esposito, Farouk, Fernandes, Fonseca, Fujita, Gallagher, Garcia, Ghosh, "
    "Gonzaga, Grabowski, Gupta, Haddad, Halloran, Hansen, Hashemi, Hayashi, Herrera, Hoffmann, Horvath, "
    "Hossain, Huang, Ibarra, Ito, Ivanov, Iyer, Jankowski, Jensen, Jovanovic, Kaminski, Kapoor, Karlsson, "
    "Kaur, Kelleher, Khalil, Khan, Kim, Kobayashi, Kovac, Kowalczyk, Kumar, Lachance, Laine, Larsen, "
    "Lefebvre, Leong, Lindqvist, Lombardi, Lopes, Mahlangu, Majewski, Markovic, Martins, Matsumoto, "
    "McAllister, Mendoza, Mensah, Molina, Moreau, Mukherjee, Murphy, Nakamura, Navarro, Ndlovu, Nguyen, "
    "Nielsen, Novak, Nowak, Nwosu, Obi, O'Brien, Odhiambo, Ogunleye, Okafor, Okonkwo, Oliveira, Olsen, "
    "Ortega, Osei, Owusu, Ozturk, Pacheco, Papadopoulos, Park, Patel, Pereira, Petrov, Pham, Popescu, Quint, "
    "Quaresma, Rahman, Ramos, Rao, Reyes, Ricci, Rinaldi, Rocha, Rossi, Russo, Saito, Salazar, Santos, Sato, "
    "Schmidt, Sharma, Shevchenko, Silva, Singh, Sokolov, Suzuki, Szabo, Takahashi, Tanaka, Tran, Trujillo, "
    "Tshabalala, Van Dijk, Varga, Vasquez, Vogel, Volkov, Walsh, Wang, Watanabe, Weber, Wisniewski, Yamamoto, "
    "Yilmaz, Yoon, Zhang, Zhou, Zielinski, Zimmermann, Abernathy, Achterberg, Calloway, Dunmore, Everett, "
    "Fairweather, Galloway, Hartley, Holloway, Kingsley, Merriweather, Pemberton, Radcliffe, Ashworth, "
    "Thornton, Whitlock, Ellison, Prendergast, Quigley, Rourke, Sheridan, Tierney, Winslow, Achebe, Baptiste, "
    "Cardoso, Dvorak, Egede, Fagerlund, Gutierrez, Halvorsen, Inoue, Jaramillo, Kruger, Lindgren, Mwangi, "
    "Nakashima, Oyelaran, Pellegrini, Rasmussen, Sandoval, Takeda, Uchenna, Valdivia, Wozniak, Yeboah, Zapata"
)

PET_NAMES = _unique(
    "Biscuit, Luna, Otis, Bramble, Rolo, Juniper, Noodle, Ziggy, Waffles, Clementine, Mochi, Pickle, Rufus, "
    "Tilly, Scout, Dotty, Chester, Maple, Socks, Pip, Fig, Monty, Bella, Teddy, Poppy, Smudge, Shadow, Gizmo, "
    "Nugget, Hobbes, Marmalade, Jasper, Pudding, Rocket, Bambi, Kiwi, Dash, Lola, Buster, Sprout"
)

# (city, country, main language)
PLACES: tuple[tuple[str, str, str], ...] = (
    ("Leeds", "England", "English"),
    ("Glasgow", "Scotland", "English"),
    ("Cardiff", "Wales", "English"),
    ("Dublin", "Ireland", "English"),
    ("Manchester", "England", "English"),
    ("Bristol", "England", "English"),
    ("Edinburgh", "Scotland", "English"),
    ("Belfast", "Northern Ireland", "English"),
    ("Paris", "France", "French"),
    ("Lyon", "France", "French"),
    ("Marseille", "France", "French"),
    ("Madrid", "Spain", "Spanish"),
    ("Seville", "Spain", "Spanish"),
    ("Valencia", "Spain", "Spanish"),
    ("Lisbon", "Portugal", "Portuguese"),
    ("Porto", "Portugal", "Portuguese"),
    ("Rome", "Italy", "Italian"),
    ("Naples", "Italy", "Italian"),
    ("Milan", "Italy", "Italian"),
    ("Turin", "Italy", "Italian"),
    ("Berlin", "Germany", "German"),
    ("Hamburg", "Germany", "German"),
    ("Munich", "Germany", "German"),
    ("Vienna", "Austria", "German"),
    ("Zurich", "Switzerland", "German"),
    ("Amsterdam", "the Netherlands", "Dutch"),
    ("Rotterdam", "the Netherlands", "Dutch"),
    ("Copenhagen", "Denmark", "Danish"),
    ("Stockholm", "Sweden", "Swedish"),
    ("Gothenburg", "Sweden", "Swedish"),
    ("Oslo", "Norway", "Norwegian"),
    ("Helsinki", "Finland", "Finnish"),
    ("Warsaw", "Poland", "Polish"),
    ("Krakow", "Poland", "Polish"),
    ("Prague", "the Czech Republic", "Czech"),
    ("Budapest", "Hungary", "Hungarian"),
    ("Athens", "Greece", "Greek"),
    ("Istanbul", "Turkey", "Turkish"),
    ("Cairo", "Egypt", "Arabic"),
    ("Casablanca", "Morocco", "Arabic"),
    ("Lagos", "Nigeria", "English"),
    ("Nairobi", "Kenya", "Swahili"),
    ("Accra", "Ghana", "English"),
    ("Cape Town", "South Africa", "English"),
    ("Johannesburg", "South Africa", "English"),
    ("Mumbai", "India", "Hindi"),
    ("Delhi", "India", "Hindi"),
    ("Karachi", "Pakistan", "Urdu"),
    ("Dhaka", "Bangladesh", "Bengali"),
    ("Bangkok", "Thailand", "Thai"),
    ("Hanoi", "Vietnam", "Vietnamese"),
    ("Manila", "the Philippines", "Filipino"),
    ("Jakarta", "Indonesia", "Indonesian"),
    ("Seoul", "South Korea", "Korean"),
    ("Busan", "South Korea", "Korean"),
    ("Tokyo", "Japan", "Japanese"),
    ("Osaka", "Japan", "Japanese"),
    ("Kyoto", "Japan", "Japanese"),
    ("Shanghai", "China", "Mandarin"),
    ("Beijing", "China", "Mandarin"),
    ("Sydney", "Australia", "English"),
    ("Melbourne", "Australia", "English"),
    ("Auckland", "New Zealand", "English"),
    ("Toronto", "Canada", "English"),
    ("Montreal", "Canada", "French"),
    ("Vancouver", "Canada", "English"),
    ("Chicago", "the United States", "English"),
    ("Boston", "the United States", "English"),
    ("New Orleans", "the United States", "English"),
    ("Denver", "the United States", "English"),
    ("Seattle", "the United States", "English"),
    ("Mexico City", "Mexico", "Spanish"),
    ("Guadalajara", "Mexico", "Spanish"),
    ("Bogota", "Colombia", "Spanish"),
    ("Lima", "Peru", "Spanish"),
    ("Buenos Aires", "Argentina", "Spanish"),
    ("Sao Paulo", "Brazil", "Portuguese"),
    ("Rio de Janeiro", "Brazil", "Portuguese"),
    ("Santiago", "Chile", "Spanish"),
    ("Reykjavik", "Iceland", "Icelandic"),
    ("Tallinn", "Estonia", "Estonian"),
)

# People a reply may mention without touching any attribute (no siblings, partners or children).
RELATIVES = ("cousin", "neighbour", "friend", "aunt", "uncle", "old school friend", "godmother")

# Openers that form their own sentence, and openers that run into the reply.
OPENERS_SENTENCE = (
    "Ha!",
    "Oh!",
    "Well.",
    "Hmm.",
    "Honestly?",
    "Oh, goodness.",
    "Ah.",
    "Right.",
    "Funny you should ask.",
    "Good question.",
    "Let me think.",
    "Ah, well.",
    "Oh, you want to know that?",
    "Hm, where to start.",
    "Oh, that.",
    "Heh.",
)
OPENERS_COMMA = (
    "Oh, well, ",
    "Honestly, ",
    "Well, ",
    "To be fair, ",
    "You know, ",
    "Ha, ",
    "Oh, ",
    "Funnily enough, ",
    "Truth be told, ",
    "Mind you, ",
    "Well, you see, ",
    "Ah, ",
)
# Words that may be lower-cased after a comma opener.
LOWERABLE = frozenset(
    (
        "the",
        "my",
        "it",
        "it's",
        "that",
        "that's",
        "there",
        "there's",
        "we",
        "you",
        "to",
        "not",
        "no",
        "yes",
        "a",
        "an",
        "people",
        "everyone",
        "every",
        "being",
        "growing",
        "most",
        "some",
        "all",
        "after",
        "when",
        "as",
        "nothing",
        "sometimes",
        "this",
        "these",
    )
)

ACTIONS = (
    "*laughs*",
    "*smiles*",
    "*shrugs*",
    "*leans back in the chair*",
    "*sighs*",
    "*grins*",
    "*chuckles softly*",
    "*tilts head*",
    "*nods slowly*",
    "*raises an eyebrow*",
    "*scratches chin*",
    "*looks out of the window*",
    "*taps the table*",
    "*smiles warmly*",
    "*rolls eyes playfully*",
    "*pauses*",
    "*laughs quietly*",
    "*folds arms*",
    "*waves a hand*",
)

# Timeless sentences that commit to no attribute: padding around the part of the reply that matters.
FILLERS = (
    "It's been a long week.",
    "Anyway, enough about me.",
    "Thanks for asking, by the way.",
    "You've caught me on a good day.",
    "Funny how life works out.",
    "The rain hasn't let up all day.",
    "It's nice to have someone to talk to.",
    "Where was I?",
    "I could go on, but I won't.",
    "That's the short version, anyway.",
    "Life's full of surprises.",
    "What about you?",
    "Sorry, I'm rambling.",
    "It's a long story.",
    "You're easy to talk to, you know.",
    "It's been a funny sort of year.",
    "Anyway, that's me.",
    "I hope that answers your question.",
    "But that's enough about that.",
    "It's good to see you, by the way.",
    "Isn't it strange how time flies?",
    "I was only thinking about that this morning.",
    "Don't get me started.",
    "You'd be surprised.",
    "Anyway, how are you keeping?",
    "That's my answer, for what it's worth.",
)

# Complete replies that say nothing about any attribute.
SMALL_TALK = lines(
    "smalltalk",
    "It's lovely to meet you!",
    "What a question! I'd rather hear about your day, to be honest.",
    "Sorry, could you say that again?",
    "Hmm, let me think about that for a moment.",
    "That's a big question for a Tuesday.",
    "I'm not sure how to answer that.",
    "Shall we talk about something else?",
    "You ask a lot of questions, don't you?",
    "evasive|Oh, I'd rather not get into that today.",
    "evasive|That's a bit personal, isn't it?",
    "evasive|I'll tell you another time, maybe.",
    "Good to see you again!",
    "Now, where were we?",
    "I've been wondering the same thing about you.",
    "evasive|Let's just say it's complicated.",
    "evasive|I'd rather keep that to myself, if you don't mind.",
    "Why do you ask?",
    "That's a story for another day.",
    "Oh, you're curious today!",
    "I never know what to say when people ask me that.",
    "Hold that thought — what were we talking about before?",
    "No idea, honestly. Ask me another.",
    "Oh no, is it that late already?",
    "evasive|No, no, I'm not answering that one.",
    "I'm a terrible person to ask about anything, really.",
)

# Replies about a topic that neither confirm nor deny anything ({Topic} is a bare noun like "music").
TOPIC_NEUTRAL = lines(
    "vague",
    "{Topic}? There's not much to tell, really.",
    "Oh, {topic}... nothing too spectacular, honestly.",
    "{Topic} is a big part of life for a lot of people.",
    "Everyone has their own take on {topic}, don't they?",
    "People ask me about {topic} more often than you'd think.",
    "{Topic}? That's a big subject.",
    "It's funny, {topic} comes up in conversation all the time.",
    "{Topic}... I'm not sure there's anything interesting I can tell you.",
    "{Topic} means different things to different people, I suppose.",
)
